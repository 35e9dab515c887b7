-- +goose Up
-- Campaigns (issue 15): a time-boxed offer per shop, in force from
-- starts_at (included) to ends_at (excluded). Windows of one shop never
-- overlap: the repository checks under the shop's lock (an exclusion
-- constraint would need btree_gist, an extension we do not require).
CREATE TABLE campaigns (
    id         bigserial PRIMARY KEY,
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    mode       text        NOT NULL CHECK (mode IN ('replace', 'add')),
    -- Each side's offer (app.Offer as JSON); NULL leaves that side standing.
    friend     jsonb,
    reward     jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX campaigns_shop_window ON campaigns (shop_id, ends_at);

-- The friend side of a campaign changes the store's discounts already
-- handed out (friend codes are keyed by the standing offer, never by a
-- campaign): terms is what the offer's codes must give now (NULL: the
-- offer's own spec), applied what every code in the store was last seen to
-- give; the campaign sync brings applied to terms.
ALTER TABLE friend_offers
    ADD COLUMN terms   jsonb,
    ADD COLUMN applied jsonb;

-- +goose Down
ALTER TABLE friend_offers DROP COLUMN applied, DROP COLUMN terms;
DROP TABLE campaigns;
