-- +goose Up
-- The advocate's page (issue 13). Its links (/a/{token}) are signed and
-- carry the advocate's page generation: "revoke advocate links" in the
-- console adds one, and every link signed before stops working, without a
-- table of issued tokens.
ALTER TABLE advocates ADD COLUMN page_generation integer NOT NULL DEFAULT 0 CHECK (page_generation >= 0);
-- A friend is shown to the advocate as first name + initial, never by
-- email: the initial of the buyer's last name, kept with the order.
ALTER TABLE orders ADD COLUMN last_initial text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE orders DROP COLUMN last_initial;
ALTER TABLE advocates DROP COLUMN page_generation;
