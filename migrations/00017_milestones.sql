-- +goose Up
-- Milestones (issue 15): a ladder of bonuses over an advocate's approved
-- referrals ("3 friends → 20.00", "10 friends → 25%"), one per program,
-- validated by app.MilestoneProblems.
ALTER TABLE programs ADD COLUMN milestones jsonb NOT NULL DEFAULT '[]';

-- A milestone's bonus is a reward row like a referral's: the same job
-- issues it (code derived from shop, advocate and threshold, so a retry
-- after a crash finds the code it may already have created), the same
-- "reward earned" email and reward.issued event follow. It has no referral;
-- the unique index pays each milestone once per advocate whatever the
-- retries, duplicates and order of events.
ALTER TABLE rewards ALTER COLUMN referral_id DROP NOT NULL;
ALTER TABLE rewards ADD COLUMN milestone_friends integer CHECK (milestone_friends > 0);
ALTER TABLE rewards ADD CONSTRAINT rewards_referral_or_milestone CHECK ((referral_id IS NULL) <> (milestone_friends IS NULL));
CREATE UNIQUE INDEX rewards_milestone ON rewards (shop_id, advocate_id, milestone_friends) WHERE milestone_friends IS NOT NULL;
-- A reversal that takes the advocate back under a paid milestone keeps the
-- bonus (never clawed back silently) and flags it: since when, and the
-- referral whose reversal did it (flagged too, so the queue shows it).
ALTER TABLE rewards ADD COLUMN review_since timestamptz;
ALTER TABLE rewards ADD COLUMN review_referral_id bigint REFERENCES referrals (id) ON DELETE SET NULL;

-- Advocates whose count of standing approved referrals may have changed
-- (a referral approved or no longer approved, a referral's reward revoked
-- or given back), written by triggers in the transaction of the change,
-- whoever makes it (the engine, support's actions): the milestone sweep
-- (referrals:approve-due) settles each one and deletes its row in one
-- transaction, so a crash anywhere leaves the row for the next run.
CREATE TABLE milestone_checks (
    advocate_id bigint      PRIMARY KEY REFERENCES advocates (id) ON DELETE CASCADE,
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The latest referral whose change queued the check: the one flagged
    -- when the check finds a paid milestone no longer reached.
    referral_id bigint      REFERENCES referrals (id) ON DELETE SET NULL,
    queued_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX milestone_checks_queued ON milestone_checks (queued_at);

-- +goose StatementBegin
CREATE FUNCTION milestone_check_queue(shop bigint, advocate bigint, referral bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Only shops with a ladder: every other approval writes nothing more.
    IF NOT EXISTS (SELECT 1 FROM programs WHERE shop_id = shop AND milestones <> '[]'::jsonb) THEN
        RETURN;
    END IF;
    INSERT INTO milestone_checks (advocate_id, shop_id, referral_id) VALUES (advocate, shop, referral)
        ON CONFLICT (advocate_id) DO UPDATE SET referral_id = EXCLUDED.referral_id;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION milestone_referrals_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM milestone_check_queue(NEW.shop_id, NEW.advocate_id, NEW.id);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER milestone_referrals AFTER INSERT ON referrals FOR EACH ROW
    WHEN (NEW.state IN ('approved', 'rewarded')) EXECUTE FUNCTION milestone_referrals_trg();
CREATE TRIGGER milestone_referrals_update AFTER UPDATE OF state ON referrals FOR EACH ROW
    WHEN ((OLD.state IN ('approved', 'rewarded')) <> (NEW.state IN ('approved', 'rewarded')))
    EXECUTE FUNCTION milestone_referrals_trg();

-- +goose StatementBegin
CREATE FUNCTION milestone_rewards_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM milestone_check_queue(NEW.shop_id, NEW.advocate_id, NEW.referral_id);
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- A referral's reward revoked (refund after the reward) or given back
-- (reissued): the referral no longer stands, or stands again.
CREATE TRIGGER milestone_rewards_update AFTER UPDATE OF state ON rewards FOR EACH ROW
    WHEN (NEW.referral_id IS NOT NULL AND (OLD.state = 'revoked') <> (NEW.state = 'revoked'))
    EXECUTE FUNCTION milestone_rewards_trg();

-- +goose Down
DROP TRIGGER milestone_rewards_update ON rewards;
DROP FUNCTION milestone_rewards_trg();
DROP TRIGGER milestone_referrals_update ON referrals;
DROP TRIGGER milestone_referrals ON referrals;
DROP FUNCTION milestone_referrals_trg();
DROP FUNCTION milestone_check_queue(bigint, bigint, bigint);
DROP TABLE milestone_checks;
ALTER TABLE rewards DROP COLUMN review_referral_id;
ALTER TABLE rewards DROP COLUMN review_since;
DROP INDEX rewards_milestone;
ALTER TABLE rewards DROP CONSTRAINT rewards_referral_or_milestone;
DELETE FROM rewards WHERE referral_id IS NULL;
ALTER TABLE rewards DROP COLUMN milestone_friends;
ALTER TABLE rewards ALTER COLUMN referral_id SET NOT NULL;
ALTER TABLE programs DROP COLUMN milestones;
