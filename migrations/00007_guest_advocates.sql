-- +goose Up
-- An advocate is a store customer or an email address: guest checkout
-- (WooCommerce's default, Shopify orders with "customer": null) has no
-- customer id. customer_id is '' for a guest advocate; email_norm is the
-- email as attribution normalises it (app/attribution NormalizeEmail), the
-- key a guest is known by and the one a guest who later registers is found
-- by, so that their customer id is attached to the same advocate.
ALTER TABLE advocates ALTER COLUMN customer_id SET DEFAULT '';
ALTER TABLE advocates ADD COLUMN email_norm text NOT NULL DEFAULT '';

-- Existing advocates are all customers: their email key is the one their
-- earliest order was stored with (orders.email_norm was normalised by the
-- same Go function when the order was merged), so SQL does not need a
-- second normalisation. Redacted advocates (email '') get none.
UPDATE advocates a SET email_norm = x.email_norm
FROM (SELECT DISTINCT ON (v.id) v.id, o.email_norm
      FROM advocates v JOIN orders o ON o.shop_id = v.shop_id AND o.customer_id = v.customer_id
      WHERE v.email <> '' AND o.email_norm <> ''
      ORDER BY v.id, o.placed_at, o.id) x
WHERE a.id = x.id;
-- Two customers of one shop may share a normalised email (a.b@gmail.com and
-- ab@gmail.com): the oldest advocate keeps the email key.
UPDATE advocates a SET email_norm = ''
WHERE a.email_norm <> '' AND EXISTS (
    SELECT 1 FROM advocates b WHERE b.shop_id = a.shop_id AND b.email_norm = a.email_norm AND b.id < a.id);

-- One advocate per (shop, customer) and one per (shop, normalised email);
-- '' is "none" for either.
ALTER TABLE advocates DROP CONSTRAINT advocates_shop_id_customer_id_key;
CREATE UNIQUE INDEX advocates_customer ON advocates (shop_id, customer_id) WHERE customer_id <> '';
CREATE UNIQUE INDEX advocates_email_norm ON advocates (shop_id, email_norm) WHERE email_norm <> '';

-- +goose Down
-- Guest advocates cannot live under the old schema: they go, with their
-- referrals and rewards (ON DELETE CASCADE).
DELETE FROM advocates WHERE customer_id = '';
DROP INDEX advocates_email_norm;
DROP INDEX advocates_customer;
ALTER TABLE advocates ADD CONSTRAINT advocates_shop_id_customer_id_key UNIQUE (shop_id, customer_id);
ALTER TABLE advocates DROP COLUMN email_norm;
ALTER TABLE advocates ALTER COLUMN customer_id DROP DEFAULT;
