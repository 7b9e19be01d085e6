-- The widget reads a member's newest ledger lines and pending points on every open. With these
-- indexes both are index-only scans: one member's entries sit together in a page or two,
-- instead of one heap fetch per line. They replace the narrower indexes on the same leading
-- columns, which other member queries use the same way.
CREATE INDEX ledger_entries_history
    ON ledger_entries (shop_id, member_id, created_at DESC, id DESC)
    INCLUDE (delta, kind, status, reason, confirms_at);
DROP INDEX ledger_entries_member;
CREATE INDEX ledger_entries_member_pending
    ON ledger_entries (shop_id, member_id, status, confirms_at) INCLUDE (delta);
DROP INDEX ledger_entries_member_status;
