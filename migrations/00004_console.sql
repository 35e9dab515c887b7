-- +goose Up
-- Staff of the standalone console: the operator's support team now,
-- WooCommerce merchants later. Merchants inside the Shopify admin are
-- authenticated by Shopify's session token instead.
CREATE TABLE staff (
    id            bigserial PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL, -- bcrypt
    role          text        NOT NULL CHECK (role IN ('owner', 'support', 'viewer')),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_email ON staff (lower(email));

-- The shops a support or viewer member may see; owners see every shop.
CREATE TABLE staff_shops (
    staff_id bigint NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    shop_id  bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, shop_id)
);

-- Sessions: only a hash of the cookie's token is stored.
CREATE TABLE staff_sessions (
    token_hash  text        PRIMARY KEY, -- hex SHA-256 of the token
    staff_id    bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Who did what, when, to what, with the state before and after. Never
-- updated; kept when a shop is erased only as far as shop_redact allows.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    shop_id      bigint      REFERENCES shops (id) ON DELETE CASCADE,
    actor        text        NOT NULL, -- "staff:<email>" or "shopify:<shop>/<user id>"
    action       text        NOT NULL,
    subject      text        NOT NULL DEFAULT '', -- e.g. "referral:42"
    before       jsonb,
    after        jsonb,
    reason       text        NOT NULL DEFAULT '',
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_shop_at ON audit_log (shop_id, at DESC);
CREATE INDEX audit_log_subject ON audit_log (shop_id, subject);

CREATE TABLE referral_notes (
    id          bigserial PRIMARY KEY,
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    referral_id bigint      NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    author      text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_notes_referral ON referral_notes (referral_id, created_at);

-- The review queue: a shop's referrals newest first, by state; search by
-- order name, email and code.
CREATE INDEX referrals_queue ON referrals (shop_id, created_at DESC, id DESC);
CREATE INDEX referrals_queue_state ON referrals (shop_id, state, created_at DESC, id DESC);
-- The dashboard reads a range of referrals without touching their rows.
CREATE INDEX referrals_dash ON referrals (shop_id, created_at) INCLUDE (state, order_id, advocate_id);
CREATE INDEX orders_name ON orders (shop_id, name);
CREATE INDEX advocates_email ON advocates (shop_id, lower(email));
-- Rewards of a range, for the dashboard's cost.
CREATE INDEX rewards_shop_created ON rewards (shop_id, created_at);
-- The dashboard: clicks and orders of a shop in a date range.
CREATE INDEX clicks_shop_at ON clicks (shop_id, at);
CREATE INDEX orders_placed ON orders (shop_id, placed_at) WHERE known AND paid;

-- +goose Down
DROP INDEX referrals_dash;
DROP INDEX rewards_shop_created;
DROP INDEX advocates_email;
DROP INDEX orders_placed;
DROP INDEX clicks_shop_at;
DROP INDEX orders_name;
DROP INDEX referrals_queue_state;
DROP INDEX referrals_queue;
DROP TABLE referral_notes;
DROP TABLE audit_log;
DROP TABLE staff_sessions;
DROP TABLE staff_shops;
DROP TABLE staff;
