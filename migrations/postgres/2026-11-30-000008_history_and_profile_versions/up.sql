-- Orders dated before the install are history: they earn points only when the owner asks for
-- it (the backfill switch sets this).
ALTER TABLE shops ADD COLUMN award_history BOOLEAN NOT NULL DEFAULT FALSE;
-- The demo shop's sample order (README) is dated before a demo shop is created.
UPDATE shops SET award_history = TRUE WHERE is_demo = TRUE;

-- The platform's `updated_at` of the customer facts last applied to a member, so that a stale
-- `customers/update` delivered late cannot overwrite newer e-mail, names or consent.
ALTER TABLE members ADD COLUMN profile_updated_at TIMESTAMP;

-- Whether the member's stored e-mail is proven theirs (the platform verified it, or they ordered
-- with it): only such an account receives a guest checkout's points or claims a guest's.
ALTER TABLE members ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
