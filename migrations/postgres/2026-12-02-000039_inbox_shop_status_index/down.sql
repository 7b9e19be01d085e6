DROP INDEX inbox_events_shop_status;
