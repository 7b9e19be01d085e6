CREATE INDEX ledger_entries_member_pending
    ON ledger_entries (shop_id, member_id, status, confirms_at) INCLUDE (delta);
