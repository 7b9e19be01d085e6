-- Who and what a stored webhook is about, as keys: a `customers/redact` finds the bodies to
-- erase by index instead of scanning the shop's whole inbox with LIKE. `customer_id` is the
-- platform's customer id (an order's customer, or a customer payload's own id); `order_id` the
-- platform's order id (an order's own id, a refund's order).
ALTER TABLE inbox_events ADD COLUMN customer_id TEXT;
ALTER TABLE inbox_events ADD COLUMN order_id TEXT;

-- Rows stored before: the same keys, read from the bodies once. jsonb refuses some valid JSON
-- (a \u0000 escape in a string): such a body is left without keys rather than stopping the
-- migration.
CREATE FUNCTION pg_temp.body_or_null(body TEXT) RETURNS JSONB LANGUAGE plpgsql AS $$
BEGIN
    RETURN body::jsonb;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END $$;

UPDATE inbox_events SET
    customer_id = COALESCE(
        body #>> '{customer,id}',
        CASE WHEN NOT (body ? 'line_items') AND NOT (body ? 'order_id') THEN body ->> 'id' END),
    order_id = CASE WHEN body ? 'line_items' THEN body ->> 'id' ELSE body ->> 'order_id' END
FROM (SELECT id AS event_id, pg_temp.body_or_null(payload) AS body FROM inbox_events) AS parsed
WHERE inbox_events.id = parsed.event_id AND jsonb_typeof(parsed.body) = 'object';

CREATE INDEX inbox_events_customer ON inbox_events (shop_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX inbox_events_order ON inbox_events (shop_id, order_id)
    WHERE order_id IS NOT NULL;
