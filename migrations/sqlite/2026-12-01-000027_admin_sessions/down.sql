DROP TABLE admin_sessions;
DROP TABLE admin_login_links;
