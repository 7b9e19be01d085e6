CREATE INDEX inbox_events_status ON inbox_events (status, received_at);
