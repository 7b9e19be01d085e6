-- An applier batch counts each of its members' paid, uncancelled orders (the NPS survey is
-- due after a member's second, `services::nps::survey_facts`). With the two columns carried in
-- the index the count can be answered from it (an index-only scan once the table is vacuumed)
-- instead of each of a member's orders being read from the table; its other readers keep the
-- same order.
DROP INDEX orders_member;
CREATE INDEX orders_member ON orders (shop_id, member_id, placed_at) INCLUDE (cancelled, financial_status);
