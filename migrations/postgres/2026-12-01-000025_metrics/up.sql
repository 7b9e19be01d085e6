-- Metrics: what each counted order counts for (its customer, shop-local day, net amount and
-- whether a member placed it), so that a change to the order (refund, cancel, a guest claimed)
-- moves exactly what it counted before. One row per counted order; none for orders that do not
-- count (unpaid, test, cancelled, fully refunded). customer_id: the members row (account or
-- guest) of the order; NULL for an order nobody can be recognised by (no e-mail, no account).
CREATE TABLE metric_orders (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_id TEXT NOT NULL,
    customer_id TEXT,
    ordered_on DATE NOT NULL,
    net_minor BIGINT NOT NULL,
    member BOOLEAN NOT NULL,
    PRIMARY KEY (shop_id, order_id)
);
-- A customer's orders in date order: every change recounts that one customer from here.
CREATE INDEX metric_orders_by_customer ON metric_orders (shop_id, customer_id, ordered_on, order_id);

-- The daily roll-up, per shop-local day, kept in the transaction that applies the order or the
-- ledger line. Order figures are by the order's own day. window_1..window_5 are deltas: the
-- number of runs of m consecutive orders of one customer that lie within the 365 days ending on
-- a day is the sum of window_m over the days up to it (see domain::retention::metrics); clv_*
-- likewise are deltas summed up to a day.
CREATE TABLE metric_days (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    orders BIGINT NOT NULL DEFAULT 0,
    revenue_minor BIGINT NOT NULL DEFAULT 0,
    member_orders BIGINT NOT NULL DEFAULT 0,
    member_revenue_minor BIGINT NOT NULL DEFAULT 0,
    first_revenue_minor BIGINT NOT NULL DEFAULT 0,
    new_customers BIGINT NOT NULL DEFAULT 0,
    window_1 BIGINT NOT NULL DEFAULT 0,
    window_2 BIGINT NOT NULL DEFAULT 0,
    window_3 BIGINT NOT NULL DEFAULT 0,
    window_4 BIGINT NOT NULL DEFAULT 0,
    window_5 BIGINT NOT NULL DEFAULT 0,
    clv_customers BIGINT NOT NULL DEFAULT 0,
    clv_revenue_minor BIGINT NOT NULL DEFAULT 0,
    points_earned BIGINT NOT NULL DEFAULT 0,
    points_spent BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, day)
);

-- A customer's runs of activity: from an order day to the first day with no order in the 365
-- days before it (ended_on). Churn is read from the runs that end in the period.
CREATE TABLE metric_spells (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    started_on DATE NOT NULL,
    last_order_on DATE NOT NULL,
    ended_on DATE NOT NULL,
    member BOOLEAN NOT NULL,
    PRIMARY KEY (shop_id, customer_id, started_on)
);
CREATE INDEX metric_spells_by_end ON metric_spells (shop_id, ended_on);

-- When the shop's metric roll-ups were built from the orders stored before them (once per shop).
ALTER TABLE shops ADD COLUMN metrics_built_at TIMESTAMP;
-- "Members at to": accounts by creation.
CREATE INDEX members_accounts_by_created ON members (shop_id, created_at, platform_customer_id, merged_into);
-- "Members who earned or redeemed in [from, to]".
CREATE INDEX ledger_entries_by_day ON ledger_entries (shop_id, created_at, kind, member_id);
