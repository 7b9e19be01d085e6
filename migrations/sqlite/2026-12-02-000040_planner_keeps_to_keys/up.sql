-- Pending events are rare when the database is analysed and thousands during a burst; the
-- claim's own index (status, attempts, received_at, id) serves every query this one did, and
-- without it the planner cannot pick the narrower index and sort every pending event for each
-- claim. (The shop_id statistics PostgreSQL is told to forget in its migration of this name
-- are only gathered here by an explicit ANALYZE, which the app does not run.)
DROP INDEX inbox_events_status;
