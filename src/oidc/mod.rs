//! Sign in with keyturn (DESIGN §6): an OpenID Connect provider. The customer's own login
//! (the cabinet) signs them into the merchant's apps, and the tokens carry what they paid for.
//!
//! `keys` (RS256 signing keys, JWKS, rotation), `model` (clients, codes, tokens), `clients` +
//! `api` (owners manage relying parties), `authorize` (the browser leg), `token` (code and
//! refresh exchanges, RFC 6749 error bodies), `endpoints` (discovery, JWKS, userinfo),
//! `logout` (RP-initiated logout), `claims` (what a token says about the customer).

pub mod api;
pub mod authorize;
pub mod claims;
pub mod clients;
pub mod endpoints;
pub mod keys;
pub mod logout;
pub mod model;
pub mod token;

/// Lifetime of ID and access tokens.
pub const TOKEN_TTL_SECS: i64 = 3600;
/// Lifetime of a refresh token (each use rotates it).
pub const REFRESH_TTL_SECS: i64 = 30 * 86_400;
/// Lifetime of an authorization code.
pub const CODE_TTL_SECS: i64 = 60;
/// The scopes we know; `openid` is required.
pub const SCOPES: [&str; 4] = ["openid", "email", "profile", "entitlements"];

/// The issuer: keyturn's public URL, without a trailing slash.
pub fn issuer(state: &crate::state::AppState) -> String {
    state.public_url.trim_end_matches('/').to_string()
}
