-- Two changes to the inbox's rows on PostgreSQL, both for what every webhook costs.
--
-- The claim's index holds only what an applier may claim. It had an entry for every event ever
-- received (`(status, attempts, received_at, id)`), and each event's mark as applied, an
-- update that cannot be HOT, added one more for the row's new version: the index grew with the
-- whole history while the claim reads only its first pending entries. Now it holds the pending
-- events never attempted, the claim's own condition (`services::ingest::pending::claim_pending`;
-- PostgreSQL plans each statement for its values, so the condition's bound parameters match
-- the predicate). Marking 20,000 events took 1.34–1.51 s instead of 1.57–1.69 s (three
-- alternating runs of the batch's `UPDATE` on a copy of a loaded inbox).
DROP INDEX inbox_events_claim;
CREATE INDEX inbox_events_claim ON inbox_events (received_at, id)
    WHERE status = 'pending' AND attempts = 0;

-- Stored bodies compressed with lz4 instead of pglz. A body is compressed once, by the
-- acknowledging writer's insert, the one statement every webhook waits for; pglz was the
-- single largest function in PostgreSQL's profile of a burst (~7 % of its CPU, `perf record`).
-- Inserting the issue's load's 20,000 bodies took 0.91–1.10 s with lz4 instead of 1.32–1.79 s,
-- for values 12 % larger; they are erased after `WEBHOOK_RETENTION_DAYS` anyway. With both
-- changes acknowledgements were ×1.22–1.23 faster, p99 lower, in ten alternating pairs
-- (docs/PERFORMANCE.md, nineteenth session). Only new values change. A server built without lz4
-- (or older than PostgreSQL 14) keeps pglz: nothing else depends on it.
DO $$
BEGIN
    -- Run as text, so that an older server's parser meets it only here, inside the handler.
    EXECUTE 'ALTER TABLE inbox_events ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE 'inbox bodies stay compressed with pglz: %', SQLERRM;
END $$;
