-- Whether a session was opened inside Shopify's admin (from a session token) rather than by a
-- login link: its pages load App Bridge and may be framed by that shop's admin, and no other.
ALTER TABLE admin_sessions ADD COLUMN embedded BOOLEAN NOT NULL DEFAULT FALSE;
