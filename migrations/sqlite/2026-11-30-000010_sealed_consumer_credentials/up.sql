-- WooCommerce REST credentials from `shop add --api-key/--api-secret`, sealed like the access token
-- (bound to the shop and field; see src/crypto.rs).
ALTER TABLE shops ADD COLUMN consumer_key_enc TEXT;
ALTER TABLE shops ADD COLUMN consumer_secret_enc TEXT;
