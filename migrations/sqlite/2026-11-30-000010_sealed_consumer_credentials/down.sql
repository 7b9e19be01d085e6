ALTER TABLE shops DROP COLUMN consumer_secret_enc;
ALTER TABLE shops DROP COLUMN consumer_key_enc;
