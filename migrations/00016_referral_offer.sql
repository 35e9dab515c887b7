-- +goose Up
-- The offer a referral earns is the one in force when the friend ordered
-- (standing program, campaign, A/B arm), stored with the referral so a later
-- edit of the program never changes a past reward. NULL: a referral made
-- before offers were stored; its reward follows the program, as it did.
ALTER TABLE referrals ADD COLUMN offer jsonb;

-- +goose Down
ALTER TABLE referrals DROP COLUMN offer;
