CREATE INDEX ledger_entries_by_day ON ledger_entries (shop_id, created_at, kind, member_id);
DROP TABLE metric_engagement;
