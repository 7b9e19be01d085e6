DROP INDEX orders_member;
CREATE INDEX orders_member ON orders (shop_id, member_id, placed_at);
