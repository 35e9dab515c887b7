-- +goose Up
-- Top advocates over a long range (a year: ~1M referral rows) summed every
-- per-day row of every advocate of the range on each view (600 ms at 1M
-- referrals). Each advocate's figures over all days bound what they can
-- have in any range, so the console reads advocates in the order of that
-- bound and sums the days of only as many as can still reach the top ten
-- (app/postgres/console_stats.go, topAdvocates).
--
-- The bounds follow dashboard_advocate_days by a statement trigger on that
-- table itself: every writer of it (the 00013 triggers, dashboard_rebuild,
-- erasure) is covered, a bulk rebuild costs one aggregate per statement.
-- A day's negative revenue (refunded more than paid) counts as zero, so
-- the bound holds whatever the refunds.
CREATE TABLE dashboard_advocate_totals (
    shop_id       bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    advocate_id   bigint NOT NULL,
    orders        bigint NOT NULL DEFAULT 0, -- sum of GREATEST(orders, 0) over the days
    revenue_minor bigint NOT NULL DEFAULT 0, -- sum of GREATEST(revenue_minor, 0) over the days
    PRIMARY KEY (shop_id, advocate_id)
);
CREATE INDEX dashboard_advocate_totals_rank ON dashboard_advocate_totals (shop_id, orders, revenue_minor, advocate_id);
-- One advocate's days of a range (the candidates' exact figures).
CREATE INDEX dashboard_advocate_days_advocate ON dashboard_advocate_days (shop_id, advocate_id, day) INCLUDE (orders, revenue_minor);

-- +goose StatementBegin
CREATE FUNCTION dashboard_advocate_totals_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_advocate_totals AS x (shop_id, advocate_id, orders, revenue_minor)
        SELECT shop_id, advocate_id, sum(GREATEST(orders, 0)), sum(GREATEST(revenue_minor, 0)) FROM new_rows GROUP BY 1, 2
        ON CONFLICT (shop_id, advocate_id) DO UPDATE SET orders = x.orders + EXCLUDED.orders, revenue_minor = x.revenue_minor + EXCLUDED.revenue_minor;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Rows of one statement are one shop's and exist: the shop does.
        INSERT INTO dashboard_advocate_totals AS x (shop_id, advocate_id, orders, revenue_minor)
        SELECT shop_id, advocate_id, sum(o), sum(r) FROM (
            SELECT shop_id, advocate_id, GREATEST(orders, 0) AS o, GREATEST(revenue_minor, 0) AS r FROM new_rows
            UNION ALL
            SELECT shop_id, advocate_id, -GREATEST(orders, 0), -GREATEST(revenue_minor, 0) FROM old_rows) d GROUP BY 1, 2
        ON CONFLICT (shop_id, advocate_id) DO UPDATE SET orders = x.orders + EXCLUDED.orders, revenue_minor = x.revenue_minor + EXCLUDED.revenue_minor;
    ELSE
        -- Never an insert here: the shop may be going (cascade).
        UPDATE dashboard_advocate_totals x SET orders = x.orders - d.o, revenue_minor = x.revenue_minor - d.r
        FROM (SELECT shop_id, advocate_id, sum(GREATEST(orders, 0)) AS o, sum(GREATEST(revenue_minor, 0)) AS r FROM old_rows GROUP BY 1, 2) d
        WHERE x.shop_id = d.shop_id AND x.advocate_id = d.advocate_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_advocate_totals_ins AFTER INSERT ON dashboard_advocate_days
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_advocate_totals_trg();
CREATE TRIGGER dashboard_advocate_totals_upd AFTER UPDATE ON dashboard_advocate_days
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_advocate_totals_trg();
CREATE TRIGGER dashboard_advocate_totals_del AFTER DELETE ON dashboard_advocate_days
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_advocate_totals_trg();

-- Backfill from the days kept so far, with their writers held off.
LOCK TABLE dashboard_advocate_days IN SHARE MODE;
INSERT INTO dashboard_advocate_totals (shop_id, advocate_id, orders, revenue_minor)
SELECT shop_id, advocate_id, sum(GREATEST(orders, 0)), sum(GREATEST(revenue_minor, 0)) FROM dashboard_advocate_days GROUP BY 1, 2;

-- +goose Down
DROP TRIGGER dashboard_advocate_totals_del ON dashboard_advocate_days;
DROP TRIGGER dashboard_advocate_totals_upd ON dashboard_advocate_days;
DROP TRIGGER dashboard_advocate_totals_ins ON dashboard_advocate_days;
DROP FUNCTION dashboard_advocate_totals_trg();
DROP INDEX dashboard_advocate_days_advocate;
DROP TABLE dashboard_advocate_totals;
