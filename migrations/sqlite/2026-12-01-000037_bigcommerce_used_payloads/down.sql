DROP TABLE bigcommerce_used_payloads;
