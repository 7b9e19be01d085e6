ALTER TABLE admin_sessions DROP COLUMN embedded;
