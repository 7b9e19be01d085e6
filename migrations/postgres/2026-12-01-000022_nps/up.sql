-- NPS. A survey is one e-mail asking one member, with an unguessable token for its links;
-- `sent_on` is the shop-local date of the order that caused it (the 90-day spacing counts from
-- it). A response is one score, from a survey link (`email`, at most one per survey: the
-- UNIQUE survey_id) or from the storefront widget (`widget`, no survey). Redaction clears a
-- response's member link and comment; the score stays for the shop's report.
CREATE TABLE nps_surveys (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    sent_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX nps_surveys_member ON nps_surveys (shop_id, member_id, sent_on);

CREATE TABLE nps_responses (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    survey_id TEXT UNIQUE REFERENCES nps_surveys (id) ON DELETE SET NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    comment TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'widget')),
    answered_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX nps_responses_report ON nps_responses (shop_id, answered_on);
CREATE INDEX nps_responses_member ON nps_responses (shop_id, member_id, answered_on);
