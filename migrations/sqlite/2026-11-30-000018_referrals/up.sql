-- Referrals. A member's `referral_code` is created lazily and is unique across all shops, so
-- `/r/{code}` (which names no shop) finds exactly one member.
CREATE UNIQUE INDEX members_referral_code ON members (referral_code);

-- Each visit of a referral link. Only a keyed hash of the visitor's IP is kept (to count distinct
-- visitors), never the address.
CREATE TABLE referral_clicks (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    visitor TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX referral_clicks_member ON referral_clicks (shop_id, member_id, created_at);

-- A friend's claim of the offer: one single-use platform code per friend (normalised e-mail) and
-- shop, bound to the referrer whose link or code they came through. `pending` until the platform
-- confirmed the code; a claim asked again drives a pending one to the end.
CREATE TABLE referral_claims (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    referrer_member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    friend_email TEXT NOT NULL,
    friend_key TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    platform_discount_id TEXT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, friend_key),
    UNIQUE (shop_id, code)
);

-- A referred friend's paid order. One per friend ever (`friend_key`: the normalised e-mail, else
-- the platform customer id) and one per order. `settles_at` is when the order's points would
-- confirm; the reward (a `referral` ledger line keyed `referral:{id}:reward`) is posted only when
-- the referral is approved. Signals are kept as the JSON array of their names.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    referrer_member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    friend_key TEXT NOT NULL,
    friend_email TEXT,
    friend_member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    friend_customer_id TEXT,
    platform_order_id TEXT NOT NULL,
    order_name TEXT,
    order_subtotal_minor BIGINT NOT NULL,
    via TEXT NOT NULL,
    status TEXT NOT NULL,
    risk_score INTEGER NOT NULL,
    signals TEXT NOT NULL,
    reward_points BIGINT NOT NULL,
    settles_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, friend_key),
    UNIQUE (shop_id, platform_order_id)
);
CREATE INDEX referrals_status ON referrals (shop_id, status, created_at);
CREATE INDEX referrals_due ON referrals (shop_id, settles_at) WHERE status = 'pending';
CREATE INDEX referrals_referrer ON referrals (shop_id, referrer_member_id, decided_at);

-- Affiliates: a public multi-use platform code each; commission on the net revenue of the orders
-- that used it (basis points: 1250 = 12.5 %).
CREATE TABLE affiliates (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    code TEXT NOT NULL,
    commission_bp INTEGER NOT NULL,
    customer_discount TEXT NOT NULL,
    status TEXT NOT NULL,
    platform_discount_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, code)
);

-- Every paid order that used an affiliate's code, kept current as refunds and cancellations
-- arrive; `placed_on` is the order's date in the shop's time zone (the report's days).
CREATE TABLE affiliate_orders (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    platform_order_id TEXT NOT NULL,
    affiliate_id TEXT NOT NULL REFERENCES affiliates (id) ON DELETE CASCADE,
    revenue_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    placed_on DATE NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, platform_order_id)
);
CREATE INDEX affiliate_orders_report ON affiliate_orders (shop_id, affiliate_id, placed_on);
