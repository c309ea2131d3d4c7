DROP INDEX oidc_tokens_expiry;
DROP INDEX oidc_tokens_account;
