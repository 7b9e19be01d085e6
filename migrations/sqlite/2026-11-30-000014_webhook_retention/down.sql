DROP INDEX inbox_events_unerased;
ALTER TABLE inbox_events DROP COLUMN body_erased_at;
