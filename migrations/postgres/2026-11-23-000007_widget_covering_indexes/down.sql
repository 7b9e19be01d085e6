CREATE INDEX ledger_entries_member_status ON ledger_entries (shop_id, member_id, status, confirms_at);
DROP INDEX ledger_entries_member_pending;
CREATE INDEX ledger_entries_member ON ledger_entries (shop_id, member_id, created_at);
DROP INDEX ledger_entries_history;
