DROP TABLE history_backfills;
ALTER TABLE shops DROP COLUMN refresh_token_expires_at;
ALTER TABLE shops DROP COLUMN access_token_expires_at;
ALTER TABLE shops DROP COLUMN refresh_token_enc;
