-- Replenishment: the products of each counted order of a member, one row per (order, product),
-- dated by the order's day in the shop's time zone. Rewritten whole whenever the order changes
-- (a cancellation or a full refund removes them), so each product's usual repurchase interval
-- and who bought it once are read from here, never from the orders' snapshots.
CREATE TABLE product_purchases (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_order_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    purchased_on DATE NOT NULL,
    title TEXT,
    PRIMARY KEY (shop_id, platform_order_id, product_id)
);
-- The daily interval pass reads a product's purchases grouped by customer.
CREATE INDEX product_purchases_by_product
    ON product_purchases (shop_id, product_id, member_id, purchased_on);
CREATE INDEX product_purchases_by_member ON product_purchases (member_id);

-- When the shop's purchase facts and product purchases were first built from the orders stored
-- before they were kept (an instance upgraded with shops installed): once per shop, by the
-- first daily pass. NULL: not yet.
ALTER TABLE shops ADD COLUMN facts_backfilled_at TIMESTAMP;
