-- +goose Up
-- What Parrain saw of a shop's setup that the store's API cannot tell: the
-- order confirmation page's block asking for a popup (the block is placed
-- and shows), the storefront launcher asking for a link. One row per shop
-- and signal, the first time it was seen; the setup checklist reads them.
CREATE TABLE setup_signals (
    shop_id       bigint      NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    signal        text        NOT NULL,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, signal)
);

-- +goose Down
DROP TABLE setup_signals;
