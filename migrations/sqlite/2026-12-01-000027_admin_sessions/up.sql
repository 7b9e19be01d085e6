-- The owner's admin UI outside Shopify's admin: a one-time login link (`boomerang shop
-- login-link`) opens a cookie session. Only hashes of the link's token and of the session
-- cookie are stored: a copy of the database signs nobody in.
CREATE TABLE admin_login_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX admin_login_links_shop ON admin_login_links (shop_id);

-- A signed-in owner: the cookie's hash, the shop, who (as recorded on what they change) and the
-- CSRF token every form of the session must carry.
CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX admin_sessions_shop ON admin_sessions (shop_id);
