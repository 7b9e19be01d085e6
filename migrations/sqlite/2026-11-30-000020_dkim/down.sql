ALTER TABLE shops DROP COLUMN dkim_private_key_enc;
ALTER TABLE shops DROP COLUMN dkim_selector;
ALTER TABLE shops DROP COLUMN dkim_domain;
