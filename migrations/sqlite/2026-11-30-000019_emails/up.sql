-- The customer's language as the platform last reported it (the order's `customer_locale`);
-- mail goes out in it when the app speaks it, else in the shop's.
ALTER TABLE members ADD COLUMN locale TEXT;

-- The mail outbox: one row per message, written in the transaction of the event that causes it,
-- so nothing acknowledged is lost; (member, kind, occasion) is unique, so each is sent at most
-- once. `context` holds the facts the message shows, captured when it was queued; the rendered
-- parts are kept once sent (the e-mail log, the demo outbox) and pruned by retention.
CREATE TABLE emails (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    occasion TEXT NOT NULL,
    locale TEXT NOT NULL,
    context TEXT NOT NULL,
    to_address TEXT,
    subject TEXT,
    text_body TEXT,
    html_body TEXT,
    status TEXT NOT NULL,
    variant TEXT,
    send_after TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    lease_until TIMESTAMP,
    digest_id TEXT,
    error TEXT,
    sent_at TIMESTAMP,
    opened_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, member_id, kind, occasion)
);
CREATE INDEX emails_due ON emails (shop_id, send_after) WHERE status IN ('queued', 'sending');
CREATE INDEX emails_member ON emails (shop_id, member_id, sent_at);
CREATE INDEX emails_log ON emails (shop_id, created_at);

-- Addresses that get no marketing mail from the shop: unsubscribed through a link, or the
-- platform reported that consent was withdrawn.
CREATE TABLE email_suppressions (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, email)
);
