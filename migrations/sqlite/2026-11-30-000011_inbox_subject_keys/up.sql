-- Who and what a stored webhook is about, as keys: a `customers/redact` finds the bodies to
-- erase by index instead of scanning the shop's whole inbox with LIKE. `customer_id` is the
-- platform's customer id (an order's customer, or a customer payload's own id); `order_id` the
-- platform's order id (an order's own id, a refund's order).
ALTER TABLE inbox_events ADD COLUMN customer_id TEXT;
ALTER TABLE inbox_events ADD COLUMN order_id TEXT;

-- Rows stored before: the same keys, read from the bodies once.
UPDATE inbox_events SET
    customer_id = COALESCE(
        CAST(json_extract(payload, '$.customer.id') AS TEXT),
        CASE WHEN json_type(payload, '$.line_items') IS NULL
              AND json_type(payload, '$.order_id') IS NULL
             THEN CAST(json_extract(payload, '$.id') AS TEXT) END),
    order_id = CASE WHEN json_type(payload, '$.line_items') IS NOT NULL
                    THEN CAST(json_extract(payload, '$.id') AS TEXT)
                    ELSE CAST(json_extract(payload, '$.order_id') AS TEXT) END
WHERE json_valid(payload) AND json_type(payload) = 'object';

CREATE INDEX inbox_events_customer ON inbox_events (shop_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX inbox_events_order ON inbox_events (shop_id, order_id)
    WHERE order_id IS NOT NULL;
