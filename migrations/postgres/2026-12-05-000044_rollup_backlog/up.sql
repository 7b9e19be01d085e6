-- The retention roll-ups an applier batch moved (customer metrics, spells and day changes,
-- product purchases, purchase facts, engagement days), kept to be written later: by the batch
-- that finds the inbox caught up, or after a while however busy it is
-- (`services::retention::backlog`). One row per batch and shop: the orders' ids, the members'
-- fact changes and the engaged days, as JSON. `error`: a row that could not be written, kept
-- for the operator and skipped.
CREATE TABLE rollup_backlog (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    work TEXT NOT NULL,
    orders INTEGER NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rollup_backlog_by_shop ON rollup_backlog (shop_id, id);
-- Like every table's shop_id (`planner_keeps_to_keys`): no statistics on which shops it holds.
ALTER TABLE rollup_backlog ALTER COLUMN shop_id SET STATISTICS 0;
