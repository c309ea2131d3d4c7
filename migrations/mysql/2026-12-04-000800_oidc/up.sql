-- Issue 13, Sign in with keyturn (DESIGN §6): an OpenID Connect provider. MariaDB translation.
-- Signing keys (RS256). The private key is PKCS#8 PEM in the database (no secret-at-rest
-- mechanism exists yet: database backups hold it, see docs/oidc.md). A key signs while
-- `retired_at` is NULL (the newest one does); a retired key stays in the JWKS until the
-- tokens it signed have expired, then `keyturn oidc rotate-keys` deletes it.
CREATE TABLE IF NOT EXISTS oidc_keys (
    kid VARCHAR(191) NOT NULL PRIMARY KEY,
    private_pem TEXT NOT NULL,
    n TEXT NOT NULL,
    e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Relying parties. `secret_hash` (SHA-256 of the secret) is NULL for a public client.
-- `redirect_uris` and `post_logout_redirect_uris` are JSON arrays matched exactly.
CREATE TABLE IF NOT EXISTS oidc_clients (
    client_id VARCHAR(191) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    service_slug TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Authorization codes: single use, 60 s; only the SHA-256 of the code is kept.
-- oidc_codes_account_fk: MariaDB needs an index on a foreign key's columns (PostgreSQL has none
-- here); it is named so that it is not an automatic one.
CREATE TABLE IF NOT EXISTS oidc_codes (
    code_hash VARCHAR(191) NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id VARCHAR(191) NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    INDEX oidc_codes_expiry (expires_at),
    INDEX oidc_codes_account_fk (account_id),
    CONSTRAINT oidc_codes_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Access and refresh tokens (`kind`), only as SHA-256. `family` groups a refresh chain and
-- its access tokens (a reused refresh token revokes the family); `code_hash` is the code the
-- family came from (a reused code revokes what it issued).
-- oidc_tokens_account_fk: the index MariaDB needs for the foreign key on account_id, until
-- 2026-12-05-000300 replaces it with oidc_tokens_account (account_id, client_id).
CREATE TABLE IF NOT EXISTS oidc_tokens (
    token_hash VARCHAR(191) NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id VARCHAR(191) NOT NULL,
    account_id VARCHAR(191) NOT NULL,
    scope TEXT NOT NULL,
    family VARCHAR(191) NOT NULL,
    code_hash VARCHAR(191) NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    INDEX oidc_tokens_family (family),
    INDEX oidc_tokens_code (code_hash),
    INDEX oidc_tokens_client (client_id),
    INDEX oidc_tokens_account_fk (account_id),
    CONSTRAINT oidc_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
