-- The rows the applier writes for every order carry no foreign keys on PostgreSQL.
--
-- Each reference cost a check after every inserted row (a `SELECT 1 … FOR KEY SHARE` on the
-- shop or member, through SPI): with ~17 references over the rows of one order, about a tenth
-- of PostgreSQL's CPU under a burst. Dropping these took the issue's load from 2,401 and 2,425
-- to 2,703 and 2,648 orders/s applied, PostgreSQL's CPU per run −10 % (docs/PERFORMANCE.md,
-- eighteenth session).
--
-- What the keys proved still holds by construction: every shop and member id the applier
-- writes was read or inserted in the same transaction (members are locked before their rows
-- are written); no shop row is ever deleted (a redacted shop's row stays); and members are
-- deleted only by the shop's redaction, which deletes their rows first, table by table
-- (`services::data_retention`, with no reliance on cascades). SQLite keeps the same
-- references, so every test of the suite still has them checked on that engine; the tables
-- written less often (members, redemptions, referrals, surveys…) keep theirs here too.
ALTER TABLE inbox_events DROP CONSTRAINT inbox_events_shop_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_shop_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_member_id_fkey;
ALTER TABLE orders DROP CONSTRAINT orders_shop_id_fkey;
ALTER TABLE orders DROP CONSTRAINT orders_member_id_fkey;
ALTER TABLE tier_activity DROP CONSTRAINT tier_activity_shop_id_fkey;
ALTER TABLE tier_activity DROP CONSTRAINT tier_activity_member_id_fkey;
ALTER TABLE emails DROP CONSTRAINT emails_shop_id_fkey;
ALTER TABLE emails DROP CONSTRAINT emails_member_id_fkey;
ALTER TABLE product_purchases DROP CONSTRAINT product_purchases_shop_id_fkey;
ALTER TABLE product_purchases DROP CONSTRAINT product_purchases_member_id_fkey;
ALTER TABLE customer_facts DROP CONSTRAINT customer_facts_shop_id_fkey;
ALTER TABLE customer_facts DROP CONSTRAINT customer_facts_member_id_fkey;
ALTER TABLE metric_orders DROP CONSTRAINT metric_orders_shop_id_fkey;
ALTER TABLE metric_spells DROP CONSTRAINT metric_spells_shop_id_fkey;
