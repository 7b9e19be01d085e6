-- Changes to the daily metric sums made while applying orders and ledger lines, appended
-- rather than added to `metric_days` at once: every order and redemption of a shop would
-- otherwise update that day's one row while holding its member's row, and two such
-- transactions taking the two rows in opposite orders deadlock. The metrics read `metric_days`
-- plus these; the daily pass folds them into `metric_days`.
CREATE TABLE metric_day_changes (
    id TEXT PRIMARY KEY NOT NULL,
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
    points_spent BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX metric_day_changes_shop ON metric_day_changes (shop_id, day);
