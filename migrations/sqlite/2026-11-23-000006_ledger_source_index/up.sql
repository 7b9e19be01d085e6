-- Reversals and expiry look up an order's (or lot's) ledger lines by source.
CREATE INDEX ledger_entries_source ON ledger_entries (shop_id, source, source_id);
-- The widget's pending points are one member's pending lines; without this the planner walks
-- every pending line of the shop through (status, confirms_at).
CREATE INDEX ledger_entries_member_status ON ledger_entries (shop_id, member_id, status, confirms_at);
