DROP INDEX inbox_events_claim;
