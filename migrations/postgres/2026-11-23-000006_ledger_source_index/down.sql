DROP INDEX ledger_entries_member_status;
DROP INDEX ledger_entries_source;
