-- The periodic sweep purges spent OpenID Connect tokens (expired access tokens, dead refresh
-- families); RP-initiated logout revokes an account's tokens at one client.
CREATE INDEX oidc_tokens_account ON oidc_tokens (account_id, client_id);
CREATE INDEX oidc_tokens_expiry ON oidc_tokens (expires_at);
