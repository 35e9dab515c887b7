-- +goose Up
-- The console's search finds part of an order's name, number, buyer's
-- email or name, and part of an advocate's code, friend code, email or name
-- ("marie", "7K2", "@gmail"). A trigram index answers LIKE '%…%' without
-- reading every row of the shop; pg_trgm is a trusted extension (the
-- database's owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX orders_search ON orders USING gin (lower(name || ' ' || email_norm || ' ' || first_name) gin_trgm_ops);
CREATE INDEX advocates_search ON advocates USING gin (lower(code || ' ' || friend_code || ' ' || email || ' ' || first_name) gin_trgm_ops);

-- +goose Down
DROP INDEX advocates_search;
DROP INDEX orders_search;
