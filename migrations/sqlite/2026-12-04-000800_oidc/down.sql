DROP TABLE oidc_tokens;
DROP TABLE oidc_codes;
DROP TABLE oidc_clients;
DROP TABLE oidc_keys;
