DROP INDEX orders_by_shop_and_id;
