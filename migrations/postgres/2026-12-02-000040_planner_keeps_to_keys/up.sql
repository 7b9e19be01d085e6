-- The planner must keep to each statement's key whatever its statistics last saw.
--
-- ANALYZE records which shops a table holds and how many of its rows are in each state. A shop
-- added since (a new install, its first burst of orders or its customer import) is then
-- estimated at one row, so for `WHERE shop_id = $1 AND id = $2` any index that starts with
-- shop_id looks as good as the key, and PostgreSQL took `members_accounts_by_created`: every
-- award read all of the shop's members. Likewise pending webhooks, rare when the table was
-- analysed and thousands during a burst: the owner's list of pending webhooks (polled while a
-- burst is applied) read every pending event of every shop through the claim's index. On a
-- database analysed before the shop came, the applier ran at ~0.6 of its speed. Such
-- statistics stay wrong until autovacuum analyses the table again, which on a large table
-- takes a tenth of its rows in changes.
--
-- Without statistics on these columns, every shop and every state is estimated at a typical
-- share of the table, and the statements' own keys win. The columns: every table's shop_id
-- (a later table with a shop_id needs the same; `tests/api/planner.rs` checks every one) and
-- the work-state columns of the queues (inbox events, jobs, e-mail), whose shares swing with
-- every burst.
CREATE TEMPORARY TABLE volatile_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL);
INSERT INTO volatile_columns
SELECT c.relname, 'shop_id'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attname = 'shop_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND c.relnamespace = current_schema()::regnamespace;
INSERT INTO volatile_columns VALUES
    ('inbox_events', 'status'), ('inbox_events', 'attempts'), ('jobs', 'status'), ('emails', 'status');

DO $$
DECLARE
    col record;
BEGIN
    FOR col IN SELECT * FROM volatile_columns LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET STATISTICS 0', col.table_name, col.column_name);
    END LOOP;
    -- ANALYZE skips such a column but keeps what it recorded before; those records go too,
    -- where this role may remove them (a database analysed before this migration otherwise
    -- keeps its old estimates).
    BEGIN
        DELETE FROM pg_statistic s
        USING pg_attribute a, volatile_columns v
        WHERE a.attrelid = s.starelid AND a.attnum = s.staattnum
          AND a.attrelid = format('%I', v.table_name)::regclass AND a.attname = v.column_name;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'statistics recorded before this migration stay until removed by a superuser';
    END;
END $$;
DROP TABLE volatile_columns;

-- With `(status, received_at)` to choose, PostgreSQL fetched every pending event and sorted
-- them for each claim; the claim's own index (status, attempts, received_at, id) serves every
-- query this one did.
DROP INDEX inbox_events_status;
