-- +goose Up
-- A WooCommerce shop's webhook secret, sealed like its keys and independent
-- of them: each wc-auth approval makes new keys, while the store's existing
-- webhooks keep the secret they were created with (woocommerce.md §9), so
-- a secret derived from the keys broke every delivery after a reconnect.
-- NULL for shops installed before: their webhooks carry the secret derived
-- from their keys, which is computed and stored on first use.
ALTER TABLE shops ADD COLUMN webhook_secret text;
-- Whether the store's webhooks were told the secret (PUT secret) since the
-- last install; the maintenance job does it once.
ALTER TABLE shops ADD COLUMN webhook_secret_synced boolean NOT NULL DEFAULT false;
-- The last delivery the intake refused and why, to tell the merchant why
-- the store disabled a webhook.
ALTER TABLE shops ADD COLUMN delivery_rejected text NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN delivery_rejected_at timestamptz;

-- +goose Down
ALTER TABLE shops DROP COLUMN delivery_rejected_at;
ALTER TABLE shops DROP COLUMN delivery_rejected;
ALTER TABLE shops DROP COLUMN webhook_secret_synced;
ALTER TABLE shops DROP COLUMN webhook_secret;
