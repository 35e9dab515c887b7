-- +goose Up
CREATE TABLE shops (
    id                        bigserial PRIMARY KEY,
    platform                  text        NOT NULL CHECK (platform IN ('shopify', 'woocommerce')),
    domain                    text        NOT NULL,
    status                    text        NOT NULL DEFAULT 'installed' CHECK (status IN ('installed', 'uninstalled', 'redacted')),
    platform_shop_id          bigint,
    name                      text        NOT NULL DEFAULT '',
    email                     text        NOT NULL DEFAULT '',
    currency                  text        NOT NULL DEFAULT '',
    timezone                  text        NOT NULL DEFAULT '',
    plan                      text        NOT NULL DEFAULT '',
    -- Credentials sealed by app/secretbox (AES-256-GCM; the key id is part of
    -- the value, so keys can rotate). NULL once uninstalled.
    access_token              text,
    access_token_expires_at   timestamptz,
    refresh_token             text,
    refresh_token_expires_at  timestamptz,
    scopes                    text        NOT NULL DEFAULT '',
    installed_at              timestamptz,
    uninstalled_at            timestamptz,
    redacted_at               timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, domain)
);

-- The refresh scheduler looks for expiring tokens of installed shops.
CREATE INDEX shops_access_expiry ON shops (access_token_expires_at)
    WHERE status = 'installed' AND refresh_token IS NOT NULL;

CREATE TABLE webhook_events (
    id            bigserial PRIMARY KEY,
    shop_id       bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    topic         text        NOT NULL,
    event_id      text        NOT NULL,
    webhook_id    text        NOT NULL DEFAULT '',
    triggered_at  timestamptz,
    api_version   text        NOT NULL DEFAULT '',
    -- The order's customer, copied out of the payload at intake so that
    -- compliance requests find a customer's events through a plain index.
    customer_id   bigint,
    -- lz4: several times cheaper than the default pglz for these 5-50 KB
    -- bodies, on the one write the intake waits for (PostgreSQL 14+).
    payload       jsonb       COMPRESSION lz4 NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- Set by the relay when it (re-)enqueues the event's job; the dispatcher
    -- does not write it, to keep a second write off the intake path.
    enqueued_at   timestamptz,
    processed_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    redacted_at   timestamptz,
    -- A redelivery of the same event is a no-op: this key is the dedupe.
    UNIQUE (shop_id, event_id)
);

-- The relay scans for events not processed yet.
CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;
-- Compliance requests find a customer's events by customer id.
CREATE INDEX webhook_events_customer ON webhook_events (shop_id, customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE data_exports (
    id               bigserial PRIMARY KEY,
    shop_id          bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    request_id       bigint      NOT NULL,
    customer_id      bigint,
    export           jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- One export per request, so a redelivered data_request does not pile up copies.
    UNIQUE (shop_id, request_id)
);

-- +goose Down
DROP TABLE data_exports;
DROP TABLE webhook_events;
DROP TABLE shops;
