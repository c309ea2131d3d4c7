-- The periodic sweep purges spent OpenID Connect tokens (expired access tokens, dead refresh
-- families); RP-initiated logout revokes an account's tokens at one client. MariaDB translation.
-- oidc_tokens_account also serves the foreign key on account_id, so the single-column index
-- made for it in 2026-12-04-000800 goes (the index set is then PostgreSQL's).
CREATE INDEX IF NOT EXISTS oidc_tokens_account ON oidc_tokens (account_id, client_id);
CREATE INDEX IF NOT EXISTS oidc_tokens_expiry ON oidc_tokens (expires_at);
DROP INDEX IF EXISTS oidc_tokens_account_fk ON oidc_tokens;
