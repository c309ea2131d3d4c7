-- The foreign key on account_id needs an index: put its own back before dropping
-- oidc_tokens_account (MariaDB refuses that with error 1553 otherwise).
CREATE INDEX IF NOT EXISTS oidc_tokens_account_fk ON oidc_tokens (account_id);
DROP INDEX IF EXISTS oidc_tokens_expiry ON oidc_tokens;
DROP INDEX IF EXISTS oidc_tokens_account ON oidc_tokens;
