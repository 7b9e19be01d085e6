DROP INDEX emails_unerased;
ALTER TABLE emails DROP COLUMN body_erased_at;
