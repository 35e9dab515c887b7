-- +goose Up
-- A/B tests of the offer (issue 15). Arm A is the standing program; arm B
-- changes the friend's discount and/or the advocate's reward. Each advocate
-- created while a test runs is put in an arm for good (advocate_arms);
-- advocates from before the test stay on the standing offer.
CREATE TABLE experiments (
    id            bigserial PRIMARY KEY,
    shop_id       bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name          text        NOT NULL DEFAULT '',
    -- Share of new advocates in B, in percent.
    split_b       integer     NOT NULL CHECK (split_b BETWEEN 1 AND 99),
    goal          text        NOT NULL CHECK (goal IN ('conversion', 'net_per_advocate')),
    -- Arm B's sides (app.Offer as JSON); NULL: that side is the standing one.
    friend_b      jsonb,
    reward_b      jsonb,
    CHECK (friend_b IS NOT NULL OR reward_b IS NOT NULL),
    -- The standing offer when the test started, for the record.
    offer_a       jsonb       NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    -- At the end: the arm the statistics named ('' when none) and the arm
    -- the merchant kept.
    winner        text        NOT NULL DEFAULT '' CHECK (winner IN ('', 'A', 'B')),
    kept          text        NOT NULL DEFAULT '' CHECK (kept IN ('', 'A', 'B')),
    -- The figures when it ended, so an ended test's results never drift.
    final_results jsonb,
    CHECK ((ended_at IS NULL) = (kept = ''))
);
-- At most one running test per shop: a second start is refused here even
-- when two arrive at once.
CREATE UNIQUE INDEX experiments_one_running ON experiments (shop_id) WHERE ended_at IS NULL;
CREATE INDEX experiments_shop ON experiments (shop_id, started_at DESC);

-- An advocate's arm, set once (the first writer wins; the arm is a hash of
-- the test and the advocate, so every writer agrees anyway).
CREATE TABLE advocate_arms (
    experiment_id bigint      NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    advocate_id   bigint      NOT NULL REFERENCES advocates (id) ON DELETE CASCADE,
    shop_id       bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    arm           text        NOT NULL CHECK (arm IN ('A', 'B')),
    assigned_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experiment_id, advocate_id)
);
CREATE INDEX advocate_arms_advocate ON advocate_arms (advocate_id);

-- +goose Down
DROP TABLE advocate_arms;
DROP TABLE experiments;
