-- +goose Up
-- The dashboard reads per-shop per-day figures kept up to date by triggers
-- in the transaction of every state change, instead of joining a year of
-- rows per view (docs/architecture.md, "The dashboard's figures").
--
-- Triggers rather than calls from Go: every writer (the engine, review
-- actions, compliance, manual SQL) is covered, and each increment is derived
-- from the row's transition (OLD → NEW), so an event processed twice (no
-- transition) adds nothing. Customer figures are recomputed from source rows
-- for the one customer an order touches, under a lock on that customer.
-- dashboard_rebuild(shop) computes everything from scratch: the backfill
-- below, a shop whose time zone changed, and the tests' reference.

-- The click that led to a referred order: the latest click on the
-- advocate's link before the order from the friend's own session (the
-- order carries the link's ref) or from the order's IP. NULL: the order
-- came by code only (or no click was recorded).
ALTER TABLE referrals ADD COLUMN click_id bigint REFERENCES clicks (id) ON DELETE SET NULL;
CREATE INDEX referrals_click ON referrals (click_id) WHERE click_id IS NOT NULL;

-- Days are the shop's: the store's IANA time zone (shop sync), once
-- Postgres has accepted it; UTC until then.
ALTER TABLE shops ADD COLUMN dashboard_tz text NOT NULL DEFAULT 'UTC';

CREATE TABLE dashboard_days (
    shop_id                bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day                    date   NOT NULL,
    clicks                 bigint NOT NULL DEFAULT 0,
    -- clicks of this day followed by a referred order (each click once)
    clicks_converted       bigint NOT NULL DEFAULT 0,
    -- referrals created this day, neither rejected nor reversed
    referred_orders        bigint NOT NULL DEFAULT 0,
    referred_after_click   bigint NOT NULL DEFAULT 0,
    referred_revenue_minor bigint NOT NULL DEFAULT 0, -- total - refunded
    referred_total_minor   bigint NOT NULL DEFAULT 0, -- total (average order)
    -- fixed rewards created this day, issuing or issued
    reward_cost_minor      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, day)
);

CREATE TABLE dashboard_channel_days (
    shop_id bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day     date   NOT NULL,
    channel text   NOT NULL,
    clicks  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, day, channel)
);

CREATE TABLE dashboard_advocate_days (
    shop_id       bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day           date   NOT NULL,
    advocate_id   bigint NOT NULL,
    orders        bigint NOT NULL DEFAULT 0,
    revenue_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, day, advocate_id)
);

-- One row per customer (store customer id, else the normalised email,
-- hashed): their first counted order and what they spent within 30, 90
-- and 365 days of it. Counted orders: known, paid, not cancelled, not test.
CREATE TABLE dashboard_customers (
    shop_id        bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    customer_key   text        NOT NULL,
    first_order_id bigint      NOT NULL,
    first_at       timestamptz NOT NULL,
    first_day      date        NOT NULL,
    referred       boolean     NOT NULL, -- the first order has a referral that was not rejected
    orders_30      bigint      NOT NULL, revenue_30  bigint NOT NULL,
    orders_90      bigint      NOT NULL, revenue_90  bigint NOT NULL,
    orders_365     bigint      NOT NULL, revenue_365 bigint NOT NULL,
    PRIMARY KEY (shop_id, customer_key)
);

-- Customers by the day of their first order, referred or not.
CREATE TABLE dashboard_cohort_days (
    shop_id     bigint  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day         date    NOT NULL,
    referred    boolean NOT NULL,
    customers   bigint  NOT NULL DEFAULT 0,
    orders_30   bigint  NOT NULL DEFAULT 0, revenue_30  bigint NOT NULL DEFAULT 0, repeat_30  bigint NOT NULL DEFAULT 0,
    orders_90   bigint  NOT NULL DEFAULT 0, revenue_90  bigint NOT NULL DEFAULT 0, repeat_90  bigint NOT NULL DEFAULT 0,
    orders_365  bigint  NOT NULL DEFAULT 0, revenue_365 bigint NOT NULL DEFAULT 0, repeat_365 bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, day, referred)
);

-- +goose StatementBegin
CREATE FUNCTION dashboard_off() RETURNS boolean LANGUAGE sql STABLE AS $$
    -- Bulk loads and shop erasure set parrain.dashboard = 'off' (SET LOCAL)
    -- and rebuild or delete the figures themselves.
    SELECT COALESCE(current_setting('parrain.dashboard', true), '') = 'off'
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_day(shop bigint, at timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (at AT TIME ZONE COALESCE((SELECT dashboard_tz FROM shops WHERE id = shop), 'UTC'))::date
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_customer_key(customer_id text, email_norm text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN customer_id <> '' THEN 'c:' || customer_id WHEN email_norm <> '' THEN 'e:' || md5(email_norm) END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_add(shop bigint, d date, n_clicks bigint, n_converted bigint, n_orders bigint, n_after_click bigint,
                              revenue bigint, total bigint, cost bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dashboard_days AS x (shop_id, day, clicks, clicks_converted, referred_orders, referred_after_click,
                                     referred_revenue_minor, referred_total_minor, reward_cost_minor)
    VALUES (shop, d, n_clicks, n_converted, n_orders, n_after_click, revenue, total, cost)
    ON CONFLICT (shop_id, day) DO UPDATE SET
        clicks = x.clicks + EXCLUDED.clicks,
        clicks_converted = x.clicks_converted + EXCLUDED.clicks_converted,
        referred_orders = x.referred_orders + EXCLUDED.referred_orders,
        referred_after_click = x.referred_after_click + EXCLUDED.referred_after_click,
        referred_revenue_minor = x.referred_revenue_minor + EXCLUDED.referred_revenue_minor,
        referred_total_minor = x.referred_total_minor + EXCLUDED.referred_total_minor,
        reward_cost_minor = x.reward_cost_minor + EXCLUDED.reward_cost_minor
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_add_advocate(shop bigint, d date, advocate bigint, n bigint, revenue bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dashboard_advocate_days AS x (shop_id, day, advocate_id, orders, revenue_minor)
    VALUES (shop, d, advocate, n, revenue)
    ON CONFLICT (shop_id, day, advocate_id) DO UPDATE SET orders = x.orders + EXCLUDED.orders, revenue_minor = x.revenue_minor + EXCLUDED.revenue_minor
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A referral's share of the day figures, sign +1 or -1.
CREATE FUNCTION dashboard_referral(f referrals, sign bigint, total bigint, refunded bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d date;
BEGIN
    IF f.state IN ('rejected', 'reversed') THEN
        RETURN;
    END IF;
    d := dashboard_day(f.shop_id, f.created_at);
    PERFORM dashboard_add(f.shop_id, d, 0, 0, sign, CASE WHEN f.click_id IS NULL THEN 0 ELSE sign END,
                          sign * (total - refunded), sign * total, 0);
    PERFORM dashboard_add_advocate(f.shop_id, d, f.advocate_id, sign, sign * (total - refunded));
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Whether a click now counts as converted changed with this referral's
-- change: the click row is locked, so two referrals of one click
-- committing at once count it once.
CREATE FUNCTION dashboard_click_conversion(click bigint, self bigint, was boolean, is_now boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c clicks;
    others boolean;
BEGIN
    IF click IS NULL OR was = is_now THEN
        RETURN;
    END IF;
    SELECT * INTO c FROM clicks WHERE id = click FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT EXISTS (SELECT 1 FROM referrals WHERE click_id = click AND id <> self AND state NOT IN ('rejected', 'reversed')) INTO others;
    IF others THEN
        RETURN;
    END IF;
    PERFORM dashboard_add(c.shop_id, dashboard_day(c.shop_id, c.at), 0, CASE WHEN is_now THEN 1 ELSE -1 END, 0, 0, 0, 0, 0);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A customer's counted orders, through orders_customer or orders_email
-- (the literal predicates let the partial indexes serve a cached plan).
CREATE FUNCTION dashboard_customer_orders(shop bigint, cid text, email text)
RETURNS TABLE (id bigint, placed_at timestamptz, rev bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF cid <> '' THEN
        RETURN QUERY SELECT o.id, o.placed_at, o.total_minor - o.refunded_minor FROM orders o
            WHERE o.shop_id = shop AND o.customer_id <> '' AND o.customer_id = cid AND o.known AND o.paid AND NOT o.cancelled AND NOT o.test;
    ELSIF email <> '' THEN
        RETURN QUERY SELECT o.id, o.placed_at, o.total_minor - o.refunded_minor FROM orders o
            WHERE o.shop_id = shop AND o.email_norm <> '' AND o.email_norm = email AND o.customer_id = ''
              AND o.known AND o.paid AND NOT o.cancelled AND NOT o.test;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A customer's row recomputed from their orders; the change is applied to
-- the cohort day(s) as new minus old.
CREATE FUNCTION dashboard_customer_refresh(shop bigint, cid text, email text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k text := dashboard_customer_key(cid, email);
    prev dashboard_customers;
    cur dashboard_customers;
BEGIN
    IF k IS NULL THEN
        RETURN;
    END IF;
    -- One transaction at a time per customer; the statements below then
    -- see every order committed before the lock was granted.
    PERFORM pg_advisory_xact_lock(hashtextextended('dashboard:' || shop || ':' || k, 0));
    SELECT * INTO prev FROM dashboard_customers WHERE shop_id = shop AND customer_key = k;
    WITH o AS (SELECT * FROM dashboard_customer_orders(shop, cid, email)),
    f AS (SELECT id, placed_at FROM o ORDER BY placed_at, id LIMIT 1)
    SELECT shop, k, f.id, f.placed_at, dashboard_day(shop, f.placed_at),
           EXISTS (SELECT 1 FROM referrals r WHERE r.order_id = f.id AND r.state <> 'rejected'),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '30 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '90 days'), 0),
           count(*) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'),
           COALESCE(sum(o.rev) FILTER (WHERE o.placed_at < f.placed_at + interval '365 days'), 0)
    INTO cur
    FROM f JOIN o ON o.placed_at >= f.placed_at
    GROUP BY f.id, f.placed_at;
    IF prev IS NOT DISTINCT FROM cur THEN
        RETURN;
    END IF;
    IF prev.customer_key IS NOT NULL THEN
        PERFORM dashboard_cohort_add(prev, -1);
    END IF;
    IF cur.customer_key IS NULL THEN
        DELETE FROM dashboard_customers WHERE shop_id = shop AND customer_key = k;
        RETURN;
    END IF;
    PERFORM dashboard_cohort_add(cur, 1);
    INSERT INTO dashboard_customers VALUES (cur.*)
    ON CONFLICT (shop_id, customer_key) DO UPDATE SET first_order_id = EXCLUDED.first_order_id, first_at = EXCLUDED.first_at,
        first_day = EXCLUDED.first_day, referred = EXCLUDED.referred,
        orders_30 = EXCLUDED.orders_30, revenue_30 = EXCLUDED.revenue_30, orders_90 = EXCLUDED.orders_90,
        revenue_90 = EXCLUDED.revenue_90, orders_365 = EXCLUDED.orders_365, revenue_365 = EXCLUDED.revenue_365;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_cohort_add(c dashboard_customers, sign bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dashboard_cohort_days AS x (shop_id, day, referred, customers, orders_30, revenue_30, repeat_30,
        orders_90, revenue_90, repeat_90, orders_365, revenue_365, repeat_365)
    VALUES (c.shop_id, c.first_day, c.referred, sign,
        sign * c.orders_30, sign * c.revenue_30, sign * (c.orders_30 >= 2)::int,
        sign * c.orders_90, sign * c.revenue_90, sign * (c.orders_90 >= 2)::int,
        sign * c.orders_365, sign * c.revenue_365, sign * (c.orders_365 >= 2)::int)
    ON CONFLICT (shop_id, day, referred) DO UPDATE SET customers = x.customers + EXCLUDED.customers,
        orders_30 = x.orders_30 + EXCLUDED.orders_30, revenue_30 = x.revenue_30 + EXCLUDED.revenue_30, repeat_30 = x.repeat_30 + EXCLUDED.repeat_30,
        orders_90 = x.orders_90 + EXCLUDED.orders_90, revenue_90 = x.revenue_90 + EXCLUDED.revenue_90, repeat_90 = x.repeat_90 + EXCLUDED.repeat_90,
        orders_365 = x.orders_365 + EXCLUDED.orders_365, revenue_365 = x.revenue_365 + EXCLUDED.revenue_365, repeat_365 = x.repeat_365 + EXCLUDED.repeat_365
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Rows of a shop being erased (cascade from shops) leave no figures to
-- keep: nothing is written for a shop that no longer exists.
CREATE FUNCTION dashboard_shop_gone(shop bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM shops WHERE id = shop)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_clicks_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c clicks;
    sign bigint := 1;
BEGIN
    IF dashboard_off() THEN
        RETURN NULL;
    END IF;
    c := NEW;
    IF TG_OP = 'DELETE' THEN
        c := OLD;
        sign := -1;
        IF dashboard_shop_gone(c.shop_id) THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM dashboard_add(c.shop_id, dashboard_day(c.shop_id, c.at), sign, 0, 0, 0, 0, 0, 0);
    INSERT INTO dashboard_channel_days AS x (shop_id, day, channel, clicks)
    VALUES (c.shop_id, dashboard_day(c.shop_id, c.at), COALESCE(NULLIF(c.channel, ''), 'direct'), sign)
    ON CONFLICT (shop_id, day, channel) DO UPDATE SET clicks = x.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_clicks AFTER INSERT OR DELETE ON clicks FOR EACH ROW EXECUTE FUNCTION dashboard_clicks_trg();

-- +goose StatementBegin
CREATE FUNCTION dashboard_referrals_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o orders;
BEGIN
    IF dashboard_off() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND dashboard_shop_gone(OLD.shop_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO o FROM orders WHERE id = COALESCE(NEW.order_id, OLD.order_id);
    IF TG_OP <> 'INSERT' THEN
        PERFORM dashboard_referral(OLD, -1, COALESCE(o.total_minor, 0), COALESCE(o.refunded_minor, 0));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM dashboard_referral(NEW, 1, COALESCE(o.total_minor, 0), COALESCE(o.refunded_minor, 0));
    END IF;
    -- The click's conversion: counted before, counted now.
    IF TG_OP = 'UPDATE' AND OLD.click_id IS DISTINCT FROM NEW.click_id THEN
        PERFORM dashboard_click_conversion(OLD.click_id, OLD.id, OLD.state NOT IN ('rejected', 'reversed'), false);
        PERFORM dashboard_click_conversion(NEW.click_id, NEW.id, false, NEW.state NOT IN ('rejected', 'reversed'));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM dashboard_click_conversion(NEW.click_id, NEW.id, OLD.state NOT IN ('rejected', 'reversed'), NEW.state NOT IN ('rejected', 'reversed'));
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM dashboard_click_conversion(NEW.click_id, NEW.id, false, NEW.state NOT IN ('rejected', 'reversed'));
    ELSE
        PERFORM dashboard_click_conversion(OLD.click_id, OLD.id, OLD.state NOT IN ('rejected', 'reversed'), false);
    END IF;
    -- Whether the buyer came through a referral.
    IF o.id IS NOT NULL AND (TG_OP <> 'UPDATE' OR (OLD.state = 'rejected') <> (NEW.state = 'rejected')) THEN
        PERFORM dashboard_customer_refresh(o.shop_id, o.customer_id, o.email_norm);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_referrals AFTER INSERT OR DELETE ON referrals FOR EACH ROW EXECUTE FUNCTION dashboard_referrals_trg();
-- Only changes that move a figure: approved → rewarded changes none, and
-- touching no row keeps the approval and issue paths from locking day rows
-- in opposite orders.
CREATE TRIGGER dashboard_referrals_update AFTER UPDATE ON referrals FOR EACH ROW
    WHEN ((OLD.state IN ('rejected', 'reversed')) <> (NEW.state IN ('rejected', 'reversed'))
          OR (OLD.state = 'rejected') <> (NEW.state = 'rejected') OR OLD.click_id IS DISTINCT FROM NEW.click_id
          OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.advocate_id IS DISTINCT FROM NEW.advocate_id
          OR OLD.order_id IS DISTINCT FROM NEW.order_id)
    EXECUTE FUNCTION dashboard_referrals_trg();

-- +goose StatementBegin
CREATE FUNCTION dashboard_orders_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f referrals;
BEGIN
    IF dashboard_off() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF NOT dashboard_shop_gone(OLD.shop_id) THEN
            PERFORM dashboard_customer_refresh(OLD.shop_id, OLD.customer_id, OLD.email_norm);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.total_minor <> NEW.total_minor OR OLD.refunded_minor <> NEW.refunded_minor) THEN
        SELECT * INTO f FROM referrals WHERE order_id = NEW.id;
        IF FOUND THEN
            PERFORM dashboard_referral(f, -1, OLD.total_minor, OLD.refunded_minor);
            PERFORM dashboard_referral(f, 1, NEW.total_minor, NEW.refunded_minor);
        END IF;
    END IF;
    PERFORM dashboard_customer_refresh(NEW.shop_id, NEW.customer_id, NEW.email_norm);
    IF TG_OP = 'UPDATE' AND dashboard_customer_key(OLD.customer_id, OLD.email_norm) IS DISTINCT FROM dashboard_customer_key(NEW.customer_id, NEW.email_norm) THEN
        PERFORM dashboard_customer_refresh(OLD.shop_id, OLD.customer_id, OLD.email_norm);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_orders AFTER INSERT OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION dashboard_orders_trg();
CREATE TRIGGER dashboard_orders_update AFTER UPDATE ON orders FOR EACH ROW
    WHEN (OLD.known IS DISTINCT FROM NEW.known OR OLD.paid IS DISTINCT FROM NEW.paid OR OLD.cancelled IS DISTINCT FROM NEW.cancelled
          OR OLD.test IS DISTINCT FROM NEW.test OR OLD.placed_at IS DISTINCT FROM NEW.placed_at
          OR OLD.total_minor IS DISTINCT FROM NEW.total_minor OR OLD.refunded_minor IS DISTINCT FROM NEW.refunded_minor
          OR OLD.customer_id IS DISTINCT FROM NEW.customer_id OR OLD.email_norm IS DISTINCT FROM NEW.email_norm)
    EXECUTE FUNCTION dashboard_orders_trg();

-- +goose StatementBegin
CREATE FUNCTION dashboard_rewards_trg() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER dashboard_rewards AFTER INSERT OR DELETE ON rewards FOR EACH ROW EXECUTE FUNCTION dashboard_rewards_trg();
CREATE TRIGGER dashboard_rewards_update AFTER UPDATE ON rewards FOR EACH ROW
    WHEN ((OLD.kind = 'fixed' AND OLD.state IN ('issuing', 'issued')) <> (NEW.kind = 'fixed' AND NEW.state IN ('issuing', 'issued'))
          OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION dashboard_rewards_trg();

-- +goose StatementBegin
-- Every figure of one shop from its source rows.
CREATE FUNCTION dashboard_rebuild(shop bigint) RETURNS void LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
-- The store's time zone, if Postgres knows it; a change redraws the days.
CREATE FUNCTION dashboard_shop_tz_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.dashboard_tz := 'UTC';
    IF NEW.timezone <> '' THEN
        BEGIN
            PERFORM now() AT TIME ZONE NEW.timezone;
            NEW.dashboard_tz := NEW.timezone;
        EXCEPTION WHEN OTHERS THEN
            NEW.dashboard_tz := 'UTC';
        END;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_shop_tz BEFORE INSERT OR UPDATE OF timezone ON shops FOR EACH ROW EXECUTE FUNCTION dashboard_shop_tz_trg();

-- Backfill: the existing shops' time zones, then their figures from what
-- is stored, with writers held off so nothing lands between the two.
LOCK TABLE orders, referrals, clicks, rewards IN SHARE MODE;
UPDATE shops SET timezone = timezone;
SELECT dashboard_rebuild(id) FROM shops;


-- +goose StatementBegin
CREATE FUNCTION dashboard_shop_rebuild_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dashboard_rebuild(NEW.id);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER dashboard_shop_rebuild AFTER UPDATE OF timezone ON shops FOR EACH ROW
    WHEN (OLD.dashboard_tz IS DISTINCT FROM NEW.dashboard_tz AND NEW.status <> 'redacted')
    EXECUTE FUNCTION dashboard_shop_rebuild_trg();

-- +goose Down
DROP TRIGGER dashboard_shop_rebuild ON shops;
DROP TRIGGER dashboard_shop_tz ON shops;
DROP TRIGGER dashboard_rewards_update ON rewards;
DROP TRIGGER dashboard_rewards ON rewards;
DROP TRIGGER dashboard_orders_update ON orders;
DROP TRIGGER dashboard_orders ON orders;
DROP TRIGGER dashboard_referrals_update ON referrals;
DROP TRIGGER dashboard_referrals ON referrals;
DROP TRIGGER dashboard_clicks ON clicks;
DROP FUNCTION dashboard_shop_rebuild_trg();
DROP FUNCTION dashboard_shop_tz_trg();
DROP FUNCTION dashboard_rebuild(bigint);
DROP FUNCTION dashboard_rewards_trg();
DROP FUNCTION dashboard_orders_trg();
DROP FUNCTION dashboard_referrals_trg();
DROP FUNCTION dashboard_clicks_trg();
DROP FUNCTION dashboard_shop_gone(bigint);
DROP FUNCTION dashboard_customer_refresh(bigint, text, text);
DROP FUNCTION dashboard_customer_orders(bigint, text, text);
DROP FUNCTION dashboard_cohort_add(dashboard_customers, bigint);
DROP FUNCTION dashboard_click_conversion(bigint, bigint, boolean, boolean);
DROP FUNCTION dashboard_referral(referrals, bigint, bigint, bigint);
DROP FUNCTION dashboard_add_advocate(bigint, date, bigint, bigint, bigint);
DROP FUNCTION dashboard_add(bigint, date, bigint, bigint, bigint, bigint, bigint, bigint, bigint);
DROP FUNCTION dashboard_customer_key(text, text);
DROP FUNCTION dashboard_day(bigint, timestamptz);
DROP FUNCTION dashboard_off();
DROP TABLE dashboard_cohort_days;
DROP TABLE dashboard_customers;
DROP TABLE dashboard_advocate_days;
DROP TABLE dashboard_channel_days;
DROP TABLE dashboard_days;
ALTER TABLE shops DROP COLUMN dashboard_tz;
DROP INDEX referrals_click;
ALTER TABLE referrals DROP COLUMN click_id;
