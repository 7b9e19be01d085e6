-- Outgoing signed webhooks (Standard Webhooks). Three tables beside `shops` (which is near
-- diesel's column limit): what the owner subscribed, the outbox of messages written in the
-- transaction of the change they tell of, and every delivery attempt (the owner's log).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- A JSON array of topic names.
    topics TEXT NOT NULL,
    -- The `whsec_…` signing secret, sealed for the shop like its other secrets.
    secret_enc TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Every change that could be told looks here first: a shop without subscriptions pays one
-- index probe.
CREATE INDEX webhook_subscriptions_by_shop ON webhook_subscriptions (shop_id, enabled);

-- One row per (subscription, event): its id is the `webhook-id` of every attempt.
CREATE TABLE webhook_messages (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending | sending | delivered | failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (shop_id, status, next_attempt_at);
CREATE INDEX webhook_messages_by_subscription ON webhook_messages (shop_id, subscription_id, created_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    -- The receiver's HTTP status; NULL when none came (timeout, refused connection).
    status_code INTEGER,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    -- scheduled | redeliver
    cause TEXT NOT NULL
);
CREATE INDEX webhook_attempts_by_message ON webhook_attempts (shop_id, message_id, attempted_at);
