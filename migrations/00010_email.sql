-- +goose Up
-- Email (issue 13). What the order tells about the buyer's language and
-- marketing consent: the latest order of a customer is what their emails
-- follow. marketing_consent is NULL when the store does not say (WooCommerce
-- core has no such field), and NULL counts as no.
ALTER TABLE orders ADD COLUMN locale text NOT NULL DEFAULT '',
                   ADD COLUMN marketing_consent boolean;

-- The merchant's email settings: reply-to, the marketing messages (off by
-- default) and their edited subjects and bodies per kind and language.
CREATE TABLE email_settings (
    shop_id              bigint      PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    reply_to             text        NOT NULL DEFAULT '',
    reminder_after_days  integer     NOT NULL DEFAULT 0 CHECK (reminder_after_days BETWEEN 0 AND 365), -- 0: off
    expiring_before_days integer     NOT NULL DEFAULT 0 CHECK (expiring_before_days BETWEEN 0 AND 365), -- 0: off
    welcome              boolean     NOT NULL DEFAULT false,
    templates            jsonb       NOT NULL DEFAULT '{}', -- {kind: {lang: {subject, body}}}
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per message ever decided, written in the same
-- transaction as the state change that causes it, keyed by kind + subject
-- (one "reward earned" per reward, ever). The send job reads it.
CREATE TABLE email_outbox (
    id           bigserial PRIMARY KEY,
    shop_id      bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('reward_earned', 'friend_ordered', 'share_reminder', 'reward_expiring', 'welcome', 'test')),
    subject_key  text        NOT NULL, -- reward id, referral id, advocate id…
    advocate_id  bigint      REFERENCES advocates (id) ON DELETE CASCADE,
    -- queued → sent | failed (the server refused for good) | skipped (not
    -- sent, and why: no consent, unsubscribed, bounced, no address).
    state        text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
    reason       text        NOT NULL DEFAULT '',
    to_addr      text        NOT NULL DEFAULT '',
    lang         text        NOT NULL DEFAULT '',
    subject      text        NOT NULL DEFAULT '',
    body         text        NOT NULL DEFAULT '',
    -- Fixed before the first attempt, so a resend after a crash carries the
    -- same Message-ID.
    message_id   text        NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    offered_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    redacted_at  timestamptz,
    UNIQUE (shop_id, kind, subject_key)
);
CREATE INDEX email_outbox_queued ON email_outbox (id) WHERE state = 'queued';
CREATE INDEX email_outbox_advocate ON email_outbox (advocate_id, created_at);

-- Addresses that get nothing more: unsubscribed (marketing only) or
-- bounced (hard: everything). Per shop.
CREATE TABLE email_suppressions (
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    email_norm text        NOT NULL,
    reason     text        NOT NULL CHECK (reason IN ('unsubscribed', 'bounced')),
    detail     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, email_norm, reason)
);

-- +goose Down
DROP TABLE email_suppressions;
DROP TABLE email_outbox;
DROP TABLE email_settings;
ALTER TABLE orders DROP COLUMN marketing_consent, DROP COLUMN locale;
