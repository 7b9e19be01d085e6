DROP INDEX inbox_events_order;
DROP INDEX inbox_events_customer;
ALTER TABLE inbox_events DROP COLUMN order_id;
ALTER TABLE inbox_events DROP COLUMN customer_id;
