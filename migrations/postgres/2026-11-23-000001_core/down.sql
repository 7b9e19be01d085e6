DROP TABLE jobs;
DROP TABLE inbox_events;
DROP TABLE orders;
DROP TABLE ledger_entries;
DROP TABLE members;
DROP TABLE shops;
DROP TABLE app_settings;
