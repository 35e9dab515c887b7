-- +goose Up
-- One referral program per shop, created with defaults on install.
CREATE TABLE programs (
    id                      bigserial PRIMARY KEY,
    shop_id                 bigint      NOT NULL UNIQUE REFERENCES shops (id) ON DELETE CASCADE,
    enabled                 boolean     NOT NULL DEFAULT true,
    currency                text        NOT NULL,
    -- Friend offer: percent (1-100), fixed amount or free shipping.
    friend_kind             text        NOT NULL DEFAULT 'percent' CHECK (friend_kind IN ('percent', 'fixed', 'free_shipping')),
    friend_percent          integer     NOT NULL DEFAULT 10 CHECK (friend_percent BETWEEN 0 AND 100),
    friend_amount_minor     bigint      NOT NULL DEFAULT 0 CHECK (friend_amount_minor >= 0),
    friend_min_order_minor  bigint      NOT NULL DEFAULT 0 CHECK (friend_min_order_minor >= 0),
    -- Referrer reward: percent or fixed amount code.
    reward_kind             text        NOT NULL DEFAULT 'fixed' CHECK (reward_kind IN ('percent', 'fixed')),
    reward_percent          integer     NOT NULL DEFAULT 0 CHECK (reward_percent BETWEEN 0 AND 100),
    reward_amount_minor     bigint      NOT NULL DEFAULT 1000 CHECK (reward_amount_minor >= 0),
    reward_expiry_days      integer     NOT NULL DEFAULT 90 CHECK (reward_expiry_days >= 0),
    holding_days            integer     NOT NULL DEFAULT 14 CHECK (holding_days >= 0),
    new_customers_only      boolean     NOT NULL DEFAULT true,
    min_order_minor         bigint      NOT NULL DEFAULT 0 CHECK (min_order_minor >= 0),
    exclude_test_orders     boolean     NOT NULL DEFAULT true,
    excluded_sources        text[]      NOT NULL DEFAULT '{}',
    cap_per_advocate        integer     NOT NULL DEFAULT 10 CHECK (cap_per_advocate >= 0),
    cap_window_days         integer     NOT NULL DEFAULT 30 CHECK (cap_window_days > 0),
    velocity_per_ip         integer     NOT NULL DEFAULT 5 CHECK (velocity_per_ip >= 0),
    velocity_per_advocate   integer     NOT NULL DEFAULT 20 CHECK (velocity_per_advocate >= 0),
    velocity_window_minutes integer     NOT NULL DEFAULT 60 CHECK (velocity_window_minutes > 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Orders as the engine knows them, merged from every event about them, so
-- the outcome does not depend on the order events arrive in.
CREATE TABLE orders (
    id                 bigserial PRIMARY KEY,
    shop_id            bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_order_id  text        NOT NULL,
    name               text        NOT NULL DEFAULT '',
    customer_id        text        NOT NULL DEFAULT '',
    email_norm         text        NOT NULL DEFAULT '',
    currency           text        NOT NULL DEFAULT '',
    total_minor        bigint      NOT NULL DEFAULT 0,
    refunded_minor     bigint      NOT NULL DEFAULT 0,
    refund_ids         text[]      NOT NULL DEFAULT '{}', -- each refund counted once
    -- false while only a refund has been seen: the order's own event is late.
    known              boolean     NOT NULL DEFAULT false,
    paid               boolean     NOT NULL DEFAULT false,
    cancelled          boolean     NOT NULL DEFAULT false,
    test               boolean     NOT NULL DEFAULT false,
    browser_ip         text        NOT NULL DEFAULT '',
    facts              jsonb       NOT NULL DEFAULT '{}', -- attribution.Order as last seen
    first_name         text        NOT NULL DEFAULT '',
    placed_at          timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, platform_order_id)
);
CREATE INDEX orders_customer ON orders (shop_id, customer_id) WHERE customer_id <> '';
CREATE INDEX orders_email ON orders (shop_id, email_norm) WHERE email_norm <> '';
-- The velocity rule counts recent referred orders from one browser IP.
CREATE INDEX orders_ip ON orders (shop_id, browser_ip) WHERE browser_ip <> '';

CREATE TABLE advocates (
    id                   bigserial PRIMARY KEY,
    shop_id              bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    customer_id          text        NOT NULL,
    first_name           text        NOT NULL DEFAULT '',
    email                text        NOT NULL DEFAULT '',
    code                 text        NOT NULL,
    friend_code          text        NOT NULL,
    -- pending: row written, discount not yet confirmed in the store.
    friend_code_state    text        NOT NULL DEFAULT 'pending' CHECK (friend_code_state IN ('pending', 'created', 'failed')),
    friend_code_ref      text        NOT NULL DEFAULT '',
    friend_code_error    text        NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, customer_id),
    -- Globally unique: /r/{code} carries no shop.
    UNIQUE (code),
    UNIQUE (shop_id, friend_code)
);

CREATE TABLE clicks (
    id          bigserial PRIMARY KEY,
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    advocate_id bigint      NOT NULL REFERENCES advocates (id) ON DELETE CASCADE,
    channel     text        NOT NULL DEFAULT '',
    ip_hash     text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clicks_advocate ON clicks (advocate_id, at);

CREATE TABLE referrals (
    id                bigserial PRIMARY KEY,
    shop_id           bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    advocate_id       bigint      NOT NULL REFERENCES advocates (id) ON DELETE CASCADE,
    order_id          bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    evidence_kind     text        NOT NULL,
    evidence_code     text        NOT NULL,
    decision          jsonb       NOT NULL, -- attribution.Decision: every rule with its reason
    state             text        NOT NULL CHECK (state IN ('pending', 'needs_review', 'rejected', 'approved', 'rewarded', 'reversed')),
    reason            text        NOT NULL DEFAULT '',
    hold_until        timestamptz NOT NULL,
    flagged           boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- One referral per order, whatever the number of events about it.
    UNIQUE (order_id)
);
CREATE INDEX referrals_due ON referrals (hold_until) WHERE state = 'pending';
CREATE INDEX referrals_advocate ON referrals (advocate_id, created_at);

CREATE TABLE rewards (
    id           bigserial PRIMARY KEY,
    shop_id      bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    referral_id  bigint      NOT NULL UNIQUE REFERENCES referrals (id) ON DELETE CASCADE,
    advocate_id  bigint      NOT NULL REFERENCES advocates (id) ON DELETE CASCADE,
    -- Derived from the referral, so a retry after a crash finds the code it
    -- may already have created in the store instead of creating another.
    code         text        NOT NULL,
    kind         text        NOT NULL,
    percent      integer     NOT NULL DEFAULT 0,
    amount_minor bigint      NOT NULL DEFAULT 0,
    currency     text        NOT NULL,
    expires_at   timestamptz,
    state        text        NOT NULL DEFAULT 'issuing' CHECK (state IN ('issuing', 'issued', 'failed', 'revoked')),
    store_ref    text        NOT NULL DEFAULT '',
    error        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    issued_at    timestamptz,
    UNIQUE (shop_id, code)
);

-- +goose Down
DROP TABLE rewards;
DROP TABLE referrals;
DROP TABLE clicks;
DROP TABLE advocates;
DROP TABLE orders;
DROP TABLE programs;
