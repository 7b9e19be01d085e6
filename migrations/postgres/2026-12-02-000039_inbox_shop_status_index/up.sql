-- The owner's list of a shop's webhooks in one state, oldest first (`GET
-- /api/admin/v1/webhooks?status=…`, `InboxEvent::list_by_status`). Without it, PostgreSQL
-- intersected the shop's events with every pending event of every shop and sorted them all:
-- 35–45 ms for a page of one during a 20,000-order burst, polled every 20 ms by the load
-- generator (and by an owner's open admin page), taking CPU from the appliers.
CREATE INDEX inbox_events_shop_status ON inbox_events (shop_id, status, received_at);
