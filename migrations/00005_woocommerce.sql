-- +goose Up
-- A WooCommerce shop's address (scheme and path matter: WordPress may live
-- in a folder, and http or https decides how the REST API authenticates).
ALTER TABLE shops ADD COLUMN store_url text NOT NULL DEFAULT '';
-- The last reconciliation poll of a store that does not retry webhooks.
ALTER TABLE shops ADD COLUMN polled_at timestamptz;

-- wc-auth installs in flight: the state we send as user_id, the store it
-- is for, single use.
CREATE TABLE woocommerce_installs (
    state      text        PRIMARY KEY,
    store_url  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);

-- +goose Down
DROP TABLE woocommerce_installs;
ALTER TABLE shops DROP COLUMN polled_at;
ALTER TABLE shops DROP COLUMN store_url;
