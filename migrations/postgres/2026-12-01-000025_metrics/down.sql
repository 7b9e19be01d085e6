DROP INDEX ledger_entries_by_day;
DROP INDEX members_accounts_by_created;
ALTER TABLE shops DROP COLUMN metrics_built_at;
DROP TABLE metric_spells;
DROP TABLE metric_days;
DROP TABLE metric_orders;
