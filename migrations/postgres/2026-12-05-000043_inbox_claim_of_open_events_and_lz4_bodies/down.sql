DO $$
BEGIN
    EXECUTE 'ALTER TABLE inbox_events ALTER COLUMN payload SET COMPRESSION pglz';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END $$;
DROP INDEX inbox_events_claim;
CREATE INDEX inbox_events_claim ON inbox_events (status, attempts, received_at, id);
