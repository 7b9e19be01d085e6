-- Retention: the raw body of an applied, ignored or dismissed webhook is erased after
-- WEBHOOK_RETENTION_DAYS (the row, its status, ids, keys and timestamps stay). `body_erased_at`
-- says when, so the owner's list and a replay can tell an erased event from a real `{}` body.
ALTER TABLE inbox_events ADD COLUMN body_erased_at TIMESTAMP;

-- The daily retention job looks, per shop, for the oldest bodies not yet erased.
CREATE INDEX inbox_events_unerased ON inbox_events (shop_id, received_at)
    WHERE body_erased_at IS NULL;
