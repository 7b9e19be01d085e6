-- Per-customer purchase facts, kept current in the transaction that applies an order (see
-- domain::retention::PurchaseFacts): counts and dates for the daily RFM segmentation, so nothing
-- scans the orders table per customer. `orders` is the serialized PurchaseFacts (the newest kept
-- orders); the other columns are its figures, for queries and reports. `segment` is written by
-- the daily segmentation job only when it changed (`segment_on`: the shop's day it was set).
CREATE TABLE customer_facts (
    member_id TEXT PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    first_order_on DATE,
    last_order_on DATE,
    order_count BIGINT NOT NULL,
    net_spend_minor BIGINT NOT NULL,
    median_gap_days DOUBLE PRECISION,
    orders TEXT NOT NULL,
    segment TEXT,
    segment_on DATE,
    updated_at TIMESTAMP NOT NULL
);
-- The daily job's keyset pages, and the customers-by-segment API's pages and counts.
CREATE INDEX customer_facts_shop ON customer_facts (shop_id, member_id);
CREATE INDEX customer_facts_segment ON customer_facts (shop_id, segment, member_id);
