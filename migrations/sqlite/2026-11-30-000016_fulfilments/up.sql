-- Rewards the owner fulfils by hand (a donation, a custom reward): opened with the points debit
-- in one transaction when a member redeems, then marked done or cancelled by the owner.
-- `ledger_key` is the idempotency key of the debit; a cancellation's refund line is keyed
-- `fulfilment:{id}:refund`, so the points come back at most once. The reward's title and
-- figures are copied, so later catalog edits change no fulfilment and no donations report.
CREATE TABLE fulfilments (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    ledger_key TEXT NOT NULL,
    reward_id TEXT NOT NULL,
    reward_title TEXT NOT NULL,
    kind TEXT NOT NULL,
    charity TEXT,
    amount_minor BIGINT,
    description TEXT,
    points BIGINT NOT NULL,
    status TEXT NOT NULL,
    done_at TIMESTAMP,
    done_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, ledger_key)
);
CREATE INDEX fulfilments_status ON fulfilments (shop_id, status, created_at);
