-- A member's pending points are read from the history index, which carries every column those
-- reads need (status, confirms_at, delta) beside the member: one index fewer to write for every
-- ledger line, and the inbox applier writes one or more per order.
DROP INDEX ledger_entries_member_pending;
