-- WooCommerce deliveries are keyed by their content (`delivery_id`, a hash of topic and body)
-- and by the `X-WC-Webhook-Delivery-ID` WooCommerce gives them (`event_id`): either one seen
-- before makes a delivery a duplicate. Shopify's `event_id` repeats across topics by design,
-- so the second key holds for WooCommerce rows only.
CREATE UNIQUE INDEX inbox_events_woocommerce_delivery ON inbox_events (shop_id, event_id)
    WHERE platform = 'woocommerce' AND event_id IS NOT NULL;
