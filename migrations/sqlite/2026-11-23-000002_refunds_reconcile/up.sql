-- Refunds are kept per order, so a refund that arrives before its order (webhooks are not
-- ordered) is applied when the order's points are awarded, and reversals are computed from the
-- cumulative refunded share.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_refund_id TEXT NOT NULL,
    platform_order_id TEXT NOT NULL,
    facts TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    refunded_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, platform_refund_id)
);
CREATE INDEX refunds_order ON refunds (shop_id, platform_order_id);

-- Reconciliation: orders updated up to this instant have been pulled from the platform's API.
ALTER TABLE shops ADD COLUMN reconciled_until TIMESTAMP;
