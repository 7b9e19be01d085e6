-- VIP tiers. A member's tier is `members.tier`; how they hold it (qualified, in grace, by a paid
-- membership) and the next day the scheduled review must look at them without any new event.
ALTER TABLE members ADD COLUMN tier_held_by TEXT NOT NULL DEFAULT 'qualified';
ALTER TABLE members ADD COLUMN tier_review_at DATE;
CREATE INDEX members_tier_review ON members (shop_id, tier_review_at)
    WHERE tier_review_at IS NOT NULL;
-- Re-evaluation walks a shop's members in id order, a batch at a time.
CREATE INDEX members_shop_order ON members (shop_id, id);

-- What each settled order (or bonus line) adds to its member's qualification, in every basis,
-- kept current as refunds and cancellations arrive. `counted` flips once `counts_from` (the end
-- of the return window) has passed: only then does the activity qualify.
CREATE TABLE tier_activity (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    occurred_on DATE NOT NULL,
    points BIGINT NOT NULL,
    spent_minor BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    counts_from TIMESTAMP NOT NULL,
    counted BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, source)
);
CREATE INDEX tier_activity_member ON tier_activity (shop_id, member_id, occurred_on);
CREATE INDEX tier_activity_due ON tier_activity (shop_id, counts_from) WHERE NOT counted;

-- Paid memberships: a tier granted by an order for a number of days; a refund revokes it.
CREATE TABLE tier_grants (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    platform_order_id TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, platform_order_id, membership_id)
);
CREATE INDEX tier_grants_member ON tier_grants (shop_id, member_id);

-- Every tier change, and every start of a grace, as it happened: the tier history and what
-- tier e-mail is sent from.
CREATE TABLE tier_events (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    from_tier TEXT,
    to_tier TEXT,
    reason TEXT NOT NULL,
    review_on DATE,
    at TIMESTAMP NOT NULL
);
CREATE INDEX tier_events_member ON tier_events (shop_id, member_id, at);
