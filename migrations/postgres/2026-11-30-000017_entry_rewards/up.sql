-- A tier's entry reward, once per member and tier: the last time it was given and the
-- redemption that carries its code. A member who re-qualifies for the tier within 365 days of
-- `issued_at` gets nothing new; after that, the row is updated with the new issue.
CREATE TABLE entry_rewards (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    tier TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    redemption_id TEXT NOT NULL REFERENCES redemptions (id) ON DELETE CASCADE,
    UNIQUE (shop_id, member_id, tier)
);
