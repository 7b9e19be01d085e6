DROP TABLE tier_events;
DROP TABLE tier_grants;
DROP TABLE tier_activity;
DROP INDEX members_shop_order;
DROP INDEX members_tier_review;
ALTER TABLE members DROP COLUMN tier_review_at;
ALTER TABLE members DROP COLUMN tier_held_by;
