-- +goose Up
-- Store credit rewards (issue 15): the advocate's reward can be credit on
-- their customer account in the store instead of a code (Shopify
-- storeCreditAccountCredit); rewards.kind is free text and takes it as is.
ALTER TABLE programs DROP CONSTRAINT IF EXISTS programs_reward_kind_check;
ALTER TABLE programs ADD CONSTRAINT programs_reward_kind_check
    CHECK (reward_kind IN ('percent', 'fixed', 'store_credit'));

-- +goose Down
UPDATE programs SET reward_kind = 'fixed' WHERE reward_kind = 'store_credit';
ALTER TABLE programs DROP CONSTRAINT IF EXISTS programs_reward_kind_check;
ALTER TABLE programs ADD CONSTRAINT programs_reward_kind_check
    CHECK (reward_kind IN ('percent', 'fixed'));
