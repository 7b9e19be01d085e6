-- Shopify install (issue 15): expiring offline tokens. The access token lives an hour, the
-- refresh token 90 days and is single-use; the refresh token is sealed like the access token
-- (bound to the shop and field, see src/crypto.rs) and both are replaced together in one
-- UPDATE at every refresh.
ALTER TABLE shops ADD COLUMN refresh_token_enc TEXT;
ALTER TABLE shops ADD COLUMN access_token_expires_at TIMESTAMP;
ALTER TABLE shops ADD COLUMN refresh_token_expires_at TIMESTAMP;
-- The history backfill of a shop: orders created since `since` (365 days before it started)
-- read through the Admin API. `cursor` is the last page stored (a crash resumes after it),
-- `orders` counts the orders read so far; `finished_at` is set after the last page.
CREATE TABLE history_backfills (
    shop_id TEXT PRIMARY KEY NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    since TIMESTAMP NOT NULL,
    cursor TEXT,
    orders BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
