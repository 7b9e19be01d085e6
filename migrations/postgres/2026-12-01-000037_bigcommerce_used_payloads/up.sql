-- The `signed_payload_jwt`s of BigCommerce's load, uninstall and remove-user callbacks already
-- used: a payload lives a day, so a leaked load URL would otherwise sign its holder in again
-- until then. The primary key makes a use insert-once across instances (the loser of a race is
-- refused); `expires_at` is the payload's `exp`, after which the row is useless (the payload is
-- refused as expired anyway) and the daily retention job deletes it.
CREATE TABLE bigcommerce_used_payloads (
    store_hash TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NOT NULL,
    PRIMARY KEY (store_hash, jti)
);
CREATE INDEX bigcommerce_used_payloads_expiry ON bigcommerce_used_payloads (expires_at);
