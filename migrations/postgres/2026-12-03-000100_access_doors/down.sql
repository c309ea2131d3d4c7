DROP TABLE api_keys;
ALTER TABLE access_grants DROP COLUMN taken_back_at;
ALTER TABLE services DROP COLUMN access_url;
ALTER TABLE services DROP COLUMN grace_days;
