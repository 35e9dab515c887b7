-- +goose Up
-- Signed events for the merchant's tools (issue 13). An endpoint is a URL a
-- merchant gave, the event types it wants and its signing secret (sealed
-- with the app's keyring, AAD bound to the shop and endpoint).
CREATE TABLE event_endpoints (
    id              bigserial   PRIMARY KEY,
    shop_id         bigint      NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    url             text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    event_types     text[]      NOT NULL,
    secret          text        NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text        NOT NULL DEFAULT '',
    -- The first failure since the last success: a day of failures
    -- disables the endpoint.
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_endpoints_shop ON event_endpoints (shop_id);

-- The outbox: one row per (shop, type, subject), written in the transaction
-- of the state change it reports. Its id (msg_…) is derived from that key,
-- so a retried engine step finds the row there and emits nothing twice.
CREATE TABLE events (
    id          text        PRIMARY KEY,
    shop_id     bigint      NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    type        text        NOT NULL,
    subject     text        NOT NULL,
    -- The advocate the event is about, so customers/redact finds it.
    advocate_id bigint,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, type, subject)
);
CREATE INDEX events_advocate ON events (shop_id, advocate_id) WHERE advocate_id IS NOT NULL;

-- One delivery per (event, subscribed endpoint), written with the event.
-- state: pending (due at next_at), sending (claimed until locked_until),
-- delivered, failed (schedule exhausted or endpoint disabled).
CREATE TABLE event_deliveries (
    id           bigserial   PRIMARY KEY,
    shop_id      bigint      NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    event_id     text        NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    endpoint_id  bigint      NOT NULL REFERENCES event_endpoints(id) ON DELETE CASCADE,
    state        text        NOT NULL DEFAULT 'pending',
    attempts     int         NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    -- When the sweep last queued this attempt's job, plus a minute: it is
    -- not queued again before (a job lost with Redis is, after that).
    offered_until timestamptz,
    last_status  int         NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    delivered_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_at) WHERE state IN ('pending', 'sending');
CREATE INDEX event_deliveries_endpoint ON event_deliveries (endpoint_id, id DESC);

-- The delivery log: one row per attempt.
CREATE TABLE event_attempts (
    id          bigserial   PRIMARY KEY,
    shop_id     bigint      NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    delivery_id bigint      NOT NULL REFERENCES event_deliveries(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status      int         NOT NULL DEFAULT 0,
    response    text        NOT NULL DEFAULT '',
    error       text        NOT NULL DEFAULT '',
    latency_ms  int         NOT NULL DEFAULT 0
);
CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);

-- +goose Down
DROP TABLE event_attempts;
DROP TABLE event_deliveries;
DROP TABLE events;
DROP TABLE event_endpoints;
