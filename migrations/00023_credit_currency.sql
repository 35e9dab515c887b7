-- +goose Up
-- Store credit in the advocate's currency (issue 15). An order paid in
-- another currency than the shop's (Shopify Markets) keeps its total in the
-- buyer's money beside the shop-money total: with both, Parrain knows the
-- currency the advocate buys in and the rate that order was charged at.
ALTER TABLE orders ADD COLUMN presentment_currency text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN presentment_minor bigint NOT NULL DEFAULT 0;

-- A store credit reward is credited in the advocate's currency, decided
-- once when the reward row is written: credit_minor in credit_currency.
-- amount_minor and currency stay the reward in the shop's money, what the
-- dashboard and exports count as its cost. '' / 0: credited as amount_minor
-- in the shop's currency (codes, and store credit of advocates Parrain
-- knows no other currency of).
ALTER TABLE rewards ADD COLUMN credit_currency text NOT NULL DEFAULT '';
ALTER TABLE rewards ADD COLUMN credit_minor bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE rewards DROP COLUMN credit_minor;
ALTER TABLE rewards DROP COLUMN credit_currency;
ALTER TABLE orders DROP COLUMN presentment_minor;
ALTER TABLE orders DROP COLUMN presentment_currency;
