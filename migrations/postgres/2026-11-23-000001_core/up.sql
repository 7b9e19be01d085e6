-- Core schema. Every tenant table carries shop_id and every query filters by it.
-- Kept column-for-column in step with migrations/sqlite (tests/api/backends.rs checks it).
-- Types are the portable subset: TEXT ids (UUID v7), BIGINT minor units and points,
-- BOOLEAN flags, TIMESTAMP in UTC.

CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE shops (
    id TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    domain TEXT NOT NULL,
    access_token_enc TEXT,
    webhook_secret_enc TEXT,
    api_key_hash TEXT,
    api_base TEXT,
    currency TEXT NOT NULL DEFAULT 'USD',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    locale TEXT NOT NULL DEFAULT 'en',
    install_state TEXT NOT NULL DEFAULT 'installed',
    program TEXT NOT NULL DEFAULT '{}',
    is_demo BOOLEAN NOT NULL DEFAULT FALSE,
    installed_at TIMESTAMP NOT NULL,
    uninstalled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (platform, domain)
);
CREATE UNIQUE INDEX shops_api_key_hash ON shops (api_key_hash) WHERE api_key_hash IS NOT NULL;

CREATE TABLE members (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_customer_id TEXT,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    birthday DATE,
    accepts_marketing BOOLEAN NOT NULL DEFAULT FALSE,
    points_balance BIGINT NOT NULL DEFAULT 0 CHECK (points_balance >= 0),
    pending_points BIGINT NOT NULL DEFAULT 0 CHECK (pending_points >= 0),
    lifetime_points BIGINT NOT NULL DEFAULT 0,
    tier TEXT,
    referral_code TEXT,
    merged_into TEXT REFERENCES members (id),
    redacted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, platform_customer_id),
    UNIQUE (shop_id, referral_code)
);
-- A guest (no customer account yet) is keyed by the order e-mail: at most one per shop.
CREATE UNIQUE INDEX members_guest_email ON members (shop_id, email)
    WHERE platform_customer_id IS NULL AND merged_into IS NULL;
CREATE INDEX members_email ON members (shop_id, email);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    delta BIGINT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    action TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    detail TEXT,
    confirms_at TIMESTAMP,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, idempotency_key)
);
CREATE INDEX ledger_entries_member ON ledger_entries (shop_id, member_id, created_at);
CREATE INDEX ledger_entries_due ON ledger_entries (status, confirms_at);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_order_id TEXT NOT NULL,
    member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    name TEXT,
    email TEXT,
    financial_status TEXT NOT NULL,
    cancelled BOOLEAN NOT NULL DEFAULT FALSE,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    snapshot TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    platform_updated_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, platform_order_id)
);
CREATE INDEX orders_member ON orders (shop_id, member_id, placed_at);

CREATE TABLE inbox_events (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    topic TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id TEXT,
    api_version TEXT,
    triggered_at TIMESTAMP,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    received_at TIMESTAMP NOT NULL,
    processed_at TIMESTAMP,
    UNIQUE (shop_id, platform, delivery_id)
);
CREATE INDEX inbox_events_status ON inbox_events (status, received_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- At most one live job per (shop, kind, dedupe key): the scheduler may enqueue on every tick.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (shop_id, kind, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs (status, run_at);
