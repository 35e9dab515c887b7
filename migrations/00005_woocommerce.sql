-- +goose Up
-- A WooCommerce shop's address (scheme and path matter: WordPress may live
-- in a folder, and http or https decides how the REST API authenticates).
ALTER TABLE shops ADD COLUMN store_url text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE shops DROP COLUMN store_url;
