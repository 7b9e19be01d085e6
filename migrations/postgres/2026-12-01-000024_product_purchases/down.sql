ALTER TABLE shops DROP COLUMN facts_backfilled_at;
DROP TABLE product_purchases;
