-- Retention: the text of a settled e-mail (sent, failed, suppressed, held out, merged into a
-- digest) is erased after WEBHOOK_RETENTION_DAYS, like webhook bodies. The row stays for the
-- owner's e-mail log (recipient, subject, status, times) and the weekly cap; `body_erased_at`
-- says when the text went, so the log and the demo outbox can say so instead of showing nothing.
ALTER TABLE emails ADD COLUMN body_erased_at TIMESTAMP;

-- The daily retention job looks, per shop, for the oldest texts not yet erased.
CREATE INDEX emails_unerased ON emails (shop_id, created_at)
    WHERE body_erased_at IS NULL;
