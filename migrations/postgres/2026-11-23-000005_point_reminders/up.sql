-- "120 points expire on 3 March" reminders, recorded when due; the e-mail effect sends them.
CREATE TABLE point_reminders (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    points BIGINT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, member_id, expires_at)
);
CREATE INDEX point_reminders_status ON point_reminders (status, created_at);
