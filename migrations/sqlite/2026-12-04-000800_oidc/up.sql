-- Issue 13, Sign in with keyturn (DESIGN §6): an OpenID Connect provider.
-- Signing keys (RS256). The private key is PKCS#8 PEM in the database (no secret-at-rest
-- mechanism exists yet: database backups hold it, see docs/oidc.md). A key signs while
-- `retired_at` is NULL (the newest one does); a retired key stays in the JWKS until the
-- tokens it signed have expired, then `keyturn oidc rotate-keys` deletes it.
CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    private_pem TEXT NOT NULL,
    n TEXT NOT NULL,
    e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
-- Relying parties. `secret_hash` (SHA-256 of the secret) is NULL for a public client.
-- `redirect_uris` and `post_logout_redirect_uris` are JSON arrays matched exactly.
CREATE TABLE oidc_clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    service_slug TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- Authorization codes: single use, 60 s; only the SHA-256 of the code is kept.
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);
-- Access and refresh tokens (`kind`), only as SHA-256. `family` groups a refresh chain and
-- its access tokens (a reused refresh token revokes the family); `code_hash` is the code the
-- family came from (a reused code revokes what it issued).
CREATE TABLE oidc_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    scope TEXT NOT NULL,
    family TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family);
CREATE INDEX oidc_tokens_code ON oidc_tokens (code_hash);
CREATE INDEX oidc_tokens_client ON oidc_tokens (client_id);
