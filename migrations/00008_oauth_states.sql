-- +goose Up
-- Shopify OAuth states consumed by a callback. The state itself travels in a
-- signed cookie (stateless until the callback); this row makes it single use
-- on the server too, so a replayed callback (same cookie, same state, a
-- second code) is refused even within the cookie's five minutes. Rows older
-- than the cookie's lifetime are useless and are deleted as new ones arrive.
CREATE TABLE oauth_states (
    nonce_hash text        PRIMARY KEY,
    used_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE oauth_states;
