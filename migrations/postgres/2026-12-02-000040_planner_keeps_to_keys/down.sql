CREATE INDEX inbox_events_status ON inbox_events (status, received_at);
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname, a.attname
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        WHERE (a.attname = 'shop_id'
               OR (c.relname = 'inbox_events' AND a.attname IN ('status', 'attempts'))
               OR (c.relname IN ('jobs', 'emails') AND a.attname = 'status'))
          AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
          AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET STATISTICS -1', t.relname, t.attname);
    END LOOP;
END $$;
