-- The rows the applier writes for every order carry no foreign keys on PostgreSQL.
--
-- Each reference cost a check after every inserted row (a `SELECT 1 … FOR KEY SHARE` on the
-- shop or member, through SPI): with the fifteen below, about a tenth of PostgreSQL's CPU under
-- a burst. Without them the issue's load was applied at 2,630–2,659 orders/s instead of
-- 2,343–2,472 (three alternating pairs), PostgreSQL's CPU per run −11 % (docs/PERFORMANCE.md,
-- eighteenth session). SQLite's checks cost nothing measurable there, so it keeps them.
--
-- What the keys proved still holds by construction: every shop and member id the applier
-- writes was read or inserted in the same transaction, under the shop's lock that its
-- redaction takes alone (events applied after it are ignored); no shop row is ever deleted (a
-- redacted shop's row stays); and members are deleted only after the shop's redaction, which
-- deletes their rows first, table by table
-- (`services::data_retention`, with no reliance on cascades); `tests/api/references.rs` looks
-- for rows naming a missing shop or member on both engines. SQLite's references also have every
-- test of the suite checked on that engine; the tables written less often (members,
-- redemptions, referrals, surveys…) keep theirs here too.
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
