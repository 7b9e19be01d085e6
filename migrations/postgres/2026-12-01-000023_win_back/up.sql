-- Win-back: one row per lapse of a customer (`lapse_on`: their last order date when they lapsed,
-- the lapse's identity, so a customer who stays lapsed never enters twice). The hold-out draw
-- and the subject variant are decided once, at entry, and kept here: the report compares the
-- groups from these rows and the customers' stored purchase facts only.
CREATE TABLE win_back_entries (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    lapse_on DATE NOT NULL,
    -- The day the lapse began (or the day it was noticed, when that was long after): the
    -- steps' schedule and the report's 30-day window start here.
    entered_on DATE NOT NULL,
    holdout BOOLEAN NOT NULL,
    variant TEXT,
    steps_sent INTEGER NOT NULL,
    -- When the next step is due; NULL once the sequence finished or ended.
    next_step_on DATE,
    -- The incentive code being created on the platform for the next step: chosen and stored
    -- before the platform is asked, so a retry looks it up instead of making a second one.
    pending_code TEXT,
    ended_on DATE,
    -- `ordered` (an order ended it), `finished` (every step went out), `disabled`.
    end_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (member_id, lapse_on)
);
CREATE INDEX win_back_due ON win_back_entries (shop_id, next_step_on);
CREATE INDEX win_back_entered ON win_back_entries (shop_id, entered_on);

-- The lapse the customer last entered the sequence for, read by the daily pass with the rest of
-- the facts, so it needs no lookup per customer to know who is new to the sequence.
ALTER TABLE customer_facts ADD COLUMN win_back_lapse_on DATE;
