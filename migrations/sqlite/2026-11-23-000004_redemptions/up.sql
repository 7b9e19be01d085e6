-- A redemption: points spent on a reward and the discount code that came of it. Created with
-- the points debit in one transaction, before the platform is asked for the code, so a crash in
-- between leaves a 'pending' row a job resolves (issued or refunded) and points are never lost.
CREATE TABLE redemptions (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    reward_id TEXT NOT NULL,
    reward TEXT NOT NULL,
    points BIGINT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    platform_discount_id TEXT,
    error TEXT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, code)
);
CREATE INDEX redemptions_member ON redemptions (shop_id, member_id, created_at);
CREATE INDEX redemptions_status ON redemptions (status, created_at);
