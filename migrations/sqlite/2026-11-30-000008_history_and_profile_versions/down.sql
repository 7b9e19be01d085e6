ALTER TABLE members DROP COLUMN email_verified;
ALTER TABLE members DROP COLUMN profile_updated_at;
ALTER TABLE shops DROP COLUMN award_history;
