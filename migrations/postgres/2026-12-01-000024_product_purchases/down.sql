DROP TABLE product_purchases;
