DROP TABLE email_suppressions;
DROP TABLE emails;
ALTER TABLE members DROP COLUMN locale;
