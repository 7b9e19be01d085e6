-- The appliers' claim (`services::ingest::claim_pending`): pending, never-attempted events,
-- oldest first, a batch at a time. With only `(status, received_at)` to go on, PostgreSQL
-- fetched every pending event of a burst (bodies and all), sorted them, often on disk, and kept
-- sixteen, once per batch; this index hands them over in order, so a claim reads its batch only.
CREATE INDEX inbox_events_claim ON inbox_events (status, attempts, received_at, id);
