-- "Members who earned or redeemed in [from, to]" (the active engagement rate) without counting
-- distinct members over a year of ledger lines: one row per account member and shop-local day
-- with such a line, with the member's previous such day. A member engaged in [from, to] has
-- exactly one row there whose previous day is before `from` (or none): counting those rows is
-- a range read of the index below.
CREATE TABLE metric_engagement (
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    day DATE NOT NULL,
    previous_day DATE,
    PRIMARY KEY (shop_id, member_id, day)
);
CREATE INDEX metric_engagement_by_day ON metric_engagement (shop_id, day, previous_day);
-- Built with the other roll-ups, once per shop: the shops built before this table are built again.
UPDATE shops SET metrics_built_at = NULL;
-- What the engagement rate was counted from before; the roll-up replaces it.
DROP INDEX ledger_entries_by_day;
