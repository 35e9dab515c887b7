-- +goose Up
-- A store-credit reward costs the merchant its amount, like a fixed code:
-- the dashboard's reward cost counts both (amount_minor is the cost in the
-- shop's money; what was credited in the advocate's currency is
-- credit_minor). Store credit is new with this wave, so existing figures
-- hold no store-credit reward to backfill: rebuilding recomputes anyway.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_rewards_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF dashboard_off() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND dashboard_shop_gone(OLD.shop_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.kind IN ('fixed', 'store_credit') AND OLD.state IN ('issuing', 'issued') THEN
        PERFORM dashboard_add(OLD.shop_id, dashboard_day(OLD.shop_id, OLD.created_at), 0, 0, 0, 0, 0, 0, -OLD.amount_minor);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.kind IN ('fixed', 'store_credit') AND NEW.state IN ('issuing', 'issued') THEN
        PERFORM dashboard_add(NEW.shop_id, dashboard_day(NEW.shop_id, NEW.created_at), 0, 0, 0, 0, 0, 0, NEW.amount_minor);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TRIGGER dashboard_rewards_update ON rewards;
CREATE TRIGGER dashboard_rewards_update AFTER UPDATE ON rewards FOR EACH ROW
    WHEN ((OLD.kind IN ('fixed', 'store_credit') AND OLD.state IN ('issuing', 'issued')) <> (NEW.kind IN ('fixed', 'store_credit') AND NEW.state IN ('issuing', 'issued'))
          OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION dashboard_rewards_trg();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_rebuild(shop bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz text := COALESCE((SELECT dashboard_tz FROM shops WHERE id = shop), 'UTC');
BEGIN
    DELETE FROM dashboard_days WHERE shop_id = shop;
    DELETE FROM dashboard_channel_days WHERE shop_id = shop;
    DELETE FROM dashboard_advocate_days WHERE shop_id = shop;
    DELETE FROM dashboard_customers WHERE shop_id = shop;
    DELETE FROM dashboard_cohort_days WHERE shop_id = shop;

    INSERT INTO dashboard_channel_days (shop_id, day, channel, clicks)
    SELECT shop, (at AT TIME ZONE tz)::date, COALESCE(NULLIF(channel, ''), 'direct'), count(*)
    FROM clicks WHERE shop_id = shop GROUP BY 2, 3;

    INSERT INTO dashboard_advocate_days (shop_id, day, advocate_id, orders, revenue_minor)
    SELECT shop, (f.created_at AT TIME ZONE tz)::date, f.advocate_id, count(*), sum(o.total_minor - o.refunded_minor)
    FROM referrals f JOIN orders o ON o.id = f.order_id
    WHERE f.shop_id = shop AND f.state NOT IN ('rejected', 'reversed') GROUP BY 2, 3;

    INSERT INTO dashboard_days (shop_id, day, clicks, clicks_converted, referred_orders, referred_after_click,
                                referred_revenue_minor, referred_total_minor, reward_cost_minor)
    SELECT shop, day, sum(clicks), sum(converted), sum(orders), sum(after_click), sum(revenue), sum(total), sum(cost)
    FROM (
        SELECT day, clicks, 0 AS converted, 0 AS orders, 0 AS after_click, 0 AS revenue, 0 AS total, 0 AS cost
        FROM (SELECT day, sum(clicks) AS clicks FROM dashboard_channel_days WHERE shop_id = shop GROUP BY day) c
        UNION ALL
        SELECT (c.at AT TIME ZONE tz)::date, 0, count(*), 0, 0, 0, 0, 0 FROM clicks c
        WHERE c.shop_id = shop AND EXISTS (SELECT 1 FROM referrals f WHERE f.click_id = c.id AND f.state NOT IN ('rejected', 'reversed'))
        GROUP BY 1
        UNION ALL
        SELECT (f.created_at AT TIME ZONE tz)::date, 0, 0, count(*), count(f.click_id),
               sum(o.total_minor - o.refunded_minor), sum(o.total_minor), 0
        FROM referrals f JOIN orders o ON o.id = f.order_id
        WHERE f.shop_id = shop AND f.state NOT IN ('rejected', 'reversed') GROUP BY 1
        UNION ALL
        SELECT (created_at AT TIME ZONE tz)::date, 0, 0, 0, 0, 0, 0, sum(amount_minor) FROM rewards
        WHERE shop_id = shop AND kind IN ('fixed', 'store_credit') AND state IN ('issuing', 'issued') GROUP BY 1
    ) parts GROUP BY day;

    INSERT INTO dashboard_customers
    WITH o AS (
        SELECT id, placed_at, total_minor - refunded_minor AS rev, dashboard_customer_key(customer_id, email_norm) AS k
        FROM orders WHERE shop_id = shop AND known AND paid AND NOT cancelled AND NOT test AND (customer_id <> '' OR email_norm <> '')),
    f AS (SELECT DISTINCT ON (k) k, id, placed_at FROM o ORDER BY k, placed_at, id)
    SELECT shop, f.k, f.id, f.placed_at, (f.placed_at AT TIME ZONE tz)::date,
           EXISTS (SELECT 1 FROM referrals r WHERE r.order_id = f.id AND r.state <> 'rejected'),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'), 0)
    FROM f JOIN o ON o.k = f.k AND o.placed_at >= f.placed_at
    GROUP BY f.k, f.id, f.placed_at;

    INSERT INTO dashboard_cohort_days (shop_id, day, referred, customers, orders_30, revenue_30, repeat_30,
        orders_90, revenue_90, repeat_90, orders_365, revenue_365, repeat_365)
    SELECT shop, first_day, referred, count(*),
        sum(orders_30), sum(revenue_30), count(*) FILTER (WHERE orders_30 >= 2),
        sum(orders_90), sum(revenue_90), count(*) FILTER (WHERE orders_90 >= 2),
        sum(orders_365), sum(revenue_365), count(*) FILTER (WHERE orders_365 >= 2)
    FROM dashboard_customers WHERE shop_id = shop GROUP BY first_day, referred;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_rewards_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF dashboard_off() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND dashboard_shop_gone(OLD.shop_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.kind = 'fixed' AND OLD.state IN ('issuing', 'issued') THEN
        PERFORM dashboard_add(OLD.shop_id, dashboard_day(OLD.shop_id, OLD.created_at), 0, 0, 0, 0, 0, 0, -OLD.amount_minor);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.kind = 'fixed' AND NEW.state IN ('issuing', 'issued') THEN
        PERFORM dashboard_add(NEW.shop_id, dashboard_day(NEW.shop_id, NEW.created_at), 0, 0, 0, 0, 0, 0, NEW.amount_minor);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TRIGGER dashboard_rewards_update ON rewards;
CREATE TRIGGER dashboard_rewards_update AFTER UPDATE ON rewards FOR EACH ROW
    WHEN ((OLD.kind = 'fixed' AND OLD.state IN ('issuing', 'issued')) <> (NEW.kind = 'fixed' AND NEW.state IN ('issuing', 'issued'))
          OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION dashboard_rewards_trg();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_rebuild(shop bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz text := COALESCE((SELECT dashboard_tz FROM shops WHERE id = shop), 'UTC');
BEGIN
    DELETE FROM dashboard_days WHERE shop_id = shop;
    DELETE FROM dashboard_channel_days WHERE shop_id = shop;
    DELETE FROM dashboard_advocate_days WHERE shop_id = shop;
    DELETE FROM dashboard_customers WHERE shop_id = shop;
    DELETE FROM dashboard_cohort_days WHERE shop_id = shop;

    INSERT INTO dashboard_channel_days (shop_id, day, channel, clicks)
    SELECT shop, (at AT TIME ZONE tz)::date, COALESCE(NULLIF(channel, ''), 'direct'), count(*)
    FROM clicks WHERE shop_id = shop GROUP BY 2, 3;

    INSERT INTO dashboard_advocate_days (shop_id, day, advocate_id, orders, revenue_minor)
    SELECT shop, (f.created_at AT TIME ZONE tz)::date, f.advocate_id, count(*), sum(o.total_minor - o.refunded_minor)
    FROM referrals f JOIN orders o ON o.id = f.order_id
    WHERE f.shop_id = shop AND f.state NOT IN ('rejected', 'reversed') GROUP BY 2, 3;

    INSERT INTO dashboard_days (shop_id, day, clicks, clicks_converted, referred_orders, referred_after_click,
                                referred_revenue_minor, referred_total_minor, reward_cost_minor)
    SELECT shop, day, sum(clicks), sum(converted), sum(orders), sum(after_click), sum(revenue), sum(total), sum(cost)
    FROM (
        SELECT day, clicks, 0 AS converted, 0 AS orders, 0 AS after_click, 0 AS revenue, 0 AS total, 0 AS cost
        FROM (SELECT day, sum(clicks) AS clicks FROM dashboard_channel_days WHERE shop_id = shop GROUP BY day) c
        UNION ALL
        SELECT (c.at AT TIME ZONE tz)::date, 0, count(*), 0, 0, 0, 0, 0 FROM clicks c
        WHERE c.shop_id = shop AND EXISTS (SELECT 1 FROM referrals f WHERE f.click_id = c.id AND f.state NOT IN ('rejected', 'reversed'))
        GROUP BY 1
        UNION ALL
        SELECT (f.created_at AT TIME ZONE tz)::date, 0, 0, count(*), count(f.click_id),
               sum(o.total_minor - o.refunded_minor), sum(o.total_minor), 0
        FROM referrals f JOIN orders o ON o.id = f.order_id
        WHERE f.shop_id = shop AND f.state NOT IN ('rejected', 'reversed') GROUP BY 1
        UNION ALL
        SELECT (created_at AT TIME ZONE tz)::date, 0, 0, 0, 0, 0, 0, sum(amount_minor) FROM rewards
        WHERE shop_id = shop AND kind = 'fixed' AND state IN ('issuing', 'issued') GROUP BY 1
    ) parts GROUP BY day;

    INSERT INTO dashboard_customers
    WITH o AS (
        SELECT id, placed_at, total_minor - refunded_minor AS rev, dashboard_customer_key(customer_id, email_norm) AS k
        FROM orders WHERE shop_id = shop AND known AND paid AND NOT cancelled AND NOT test AND (customer_id <> '' OR email_norm <> '')),
    f AS (SELECT DISTINCT ON (k) k, id, placed_at FROM o ORDER BY k, placed_at, id)
    SELECT shop, f.k, f.id, f.placed_at, (f.placed_at AT TIME ZONE tz)::date,
           EXISTS (SELECT 1 FROM referrals r WHERE r.order_id = f.id AND r.state <> 'rejected'),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'), 0)
    FROM f JOIN o ON o.k = f.k AND o.placed_at >= f.placed_at
    GROUP BY f.k, f.id, f.placed_at;

    INSERT INTO dashboard_cohort_days (shop_id, day, referred, customers, orders_30, revenue_30, repeat_30,
        orders_90, revenue_90, repeat_90, orders_365, revenue_365, repeat_365)
    SELECT shop, first_day, referred, count(*),
        sum(orders_30), sum(revenue_30), count(*) FILTER (WHERE orders_30 >= 2),
        sum(orders_90), sum(revenue_90), count(*) FILTER (WHERE orders_90 >= 2),
        sum(orders_365), sum(revenue_365), count(*) FILTER (WHERE orders_365 >= 2)
    FROM dashboard_customers WHERE shop_id = shop GROUP BY first_day, referred;
END $$;
-- +goose StatementEnd
