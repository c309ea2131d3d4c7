DROP TABLE IF EXISTS api_keys;
ALTER TABLE access_grants DROP COLUMN IF EXISTS taken_back_at;
ALTER TABLE services DROP COLUMN IF EXISTS access_url;
ALTER TABLE services DROP COLUMN IF EXISTS grace_days;
