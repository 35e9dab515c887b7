-- +goose Up
-- Friend codes in bulk (issue 12): the friend codes that share an offer are
-- codes of one store discount per (shop, offer key) on platforms that can
-- hold many codes under one discount (Shopify); they are added by batches.
-- The advocate row is the durable record of each code: pending (waiting for
-- a batch), creating (in batch friend_batch_id, sent or about to be sent),
-- created or failed. A batch row remembers what was asked of the store and
-- the store's bulk operation, so a worker that dies mid-batch is followed
-- by one that first learns what the store did.
CREATE TABLE friend_offers (
    id         bigserial PRIMARY KEY,
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The offer's key: its terms (kind, value, currency, minimum), later
    -- an A/B arm or a campaign.
    offer_key  text        NOT NULL,
    -- The offer's terms (app.DiscountSpec as JSON) when it was first used.
    spec       jsonb       NOT NULL DEFAULT '{}',
    -- The store's discount holding the offer's codes; '' until created.
    store_ref  text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, offer_key)
);

CREATE TABLE friend_code_batches (
    id         bigserial PRIMARY KEY,
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    offer_id   bigint      NOT NULL REFERENCES friend_offers (id) ON DELETE CASCADE,
    -- The store's bulk operation to follow ('' when none was recorded:
    -- never sent, answered at once, or sent by a worker that died before
    -- recording it).
    operation  text        NOT NULL DEFAULT '',
    -- Set before the batch goes to the store: a batch with sent_at and no
    -- operation may have reached the store.
    sent_at    timestamptz,
    done_at    timestamptz,
    -- One worker at a time: a batch is leased, and a dead worker's lease
    -- runs out.
    leased_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX friend_code_batches_open ON friend_code_batches (shop_id, id) WHERE done_at IS NULL;

ALTER TABLE advocates DROP CONSTRAINT advocates_friend_code_state_check;
ALTER TABLE advocates ADD CONSTRAINT advocates_friend_code_state_check
    CHECK (friend_code_state IN ('pending', 'creating', 'created', 'failed'));
ALTER TABLE advocates
    ADD COLUMN friend_offer_key text   NOT NULL DEFAULT '',
    ADD COLUMN friend_batch_id  bigint REFERENCES friend_code_batches (id) ON DELETE SET NULL;
CREATE INDEX advocates_friend_code_waiting ON advocates (shop_id, id) WHERE friend_code_state IN ('pending', 'creating');

-- +goose Down
DROP INDEX advocates_friend_code_waiting;
ALTER TABLE advocates DROP COLUMN friend_batch_id, DROP COLUMN friend_offer_key;
UPDATE advocates SET friend_code_state = 'pending' WHERE friend_code_state = 'creating';
ALTER TABLE advocates DROP CONSTRAINT advocates_friend_code_state_check;
ALTER TABLE advocates ADD CONSTRAINT advocates_friend_code_state_check
    CHECK (friend_code_state IN ('pending', 'created', 'failed'));
DROP TABLE friend_code_batches;
DROP TABLE friend_offers;
