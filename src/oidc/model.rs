//! `oidc_keys`, `oidc_clients`, `oidc_codes` and `oidc_tokens`: codes and tokens only as
//! SHA-256, client secrets only as SHA-256.

use diesel::prelude::*;

use crate::db::schema::{oidc_clients, oidc_codes, oidc_keys, oidc_tokens};
use crate::db::DbConn;

/// A signing key (RS256). `n` and `e` are base64url, as the JWKS shows them.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oidc_keys)]
pub struct SigningKey {
    pub kid: String,
    pub private_pem: String,
    pub n: String,
    pub e: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// A relying party.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oidc_clients)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    /// JSON array.
    pub redirect_uris: String,
    /// JSON array.
    pub post_logout_redirect_uris: String,
    pub service_slug: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

impl Client {
    fn list(json: &str) -> Vec<String> {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> Vec<String> {
        Self::list(&self.redirect_uris)
    }

    /// The registered post-logout redirect URIs.
    pub fn post_logout_redirect_uris(&self) -> Vec<String> {
        Self::list(&self.post_logout_redirect_uris)
    }

    /// True for a client without a secret (a single-page or native app).
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }
}

/// An authorization code (only its hash).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oidc_codes)]
pub struct Code {
    pub code_hash: String,
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// `oidc_tokens.kind`.
pub const ACCESS: &str = "access";
/// `oidc_tokens.kind`.
pub const REFRESH: &str = "refresh";

/// An access or refresh token (only its hash).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oidc_tokens)]
pub struct Token {
    pub token_hash: String,
    pub kind: String,
    pub client_id: String,
    pub account_id: String,
    pub scope: String,
    pub family: String,
    pub code_hash: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub fn insert_key(conn: &mut DbConn, k: &SigningKey) -> QueryResult<usize> {
    diesel::insert_into(oidc_keys::table).values(k).execute(conn)
}

/// Every key, newest first.
pub fn keys(conn: &mut DbConn) -> QueryResult<Vec<SigningKey>> {
    oidc_keys::table.order((oidc_keys::created_at.desc(), oidc_keys::kid.desc())).load(conn)
}

/// Retires every signing key (a newer one takes over).
pub fn retire_keys(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    diesel::update(oidc_keys::table.filter(oidc_keys::retired_at.is_null()))
        .set(oidc_keys::retired_at.eq(now))
        .execute(conn)
}

/// Deletes keys retired before `before` (their tokens have expired).
pub fn delete_keys_retired_before(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    diesel::delete(oidc_keys::table.filter(oidc_keys::retired_at.lt(before))).execute(conn)
}

pub fn insert_client(conn: &mut DbConn, c: &Client) -> QueryResult<usize> {
    diesel::insert_into(oidc_clients::table).values(c).execute(conn)
}

pub fn find_client(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<Client>> {
    oidc_clients::table.find(client_id).first(conn).optional()
}

pub fn clients(conn: &mut DbConn) -> QueryResult<Vec<Client>> {
    oidc_clients::table.order(oidc_clients::created_at.asc()).load(conn)
}

/// Deletes a client with its codes and tokens; false when there was none.
pub fn delete_client(conn: &mut DbConn, client_id: &str) -> QueryResult<bool> {
    diesel::delete(oidc_tokens::table.filter(oidc_tokens::client_id.eq(client_id))).execute(conn)?;
    diesel::delete(oidc_codes::table.filter(oidc_codes::client_id.eq(client_id))).execute(conn)?;
    Ok(diesel::delete(oidc_clients::table.find(client_id)).execute(conn)? == 1)
}

pub fn insert_code(conn: &mut DbConn, c: &Code) -> QueryResult<usize> {
    diesel::insert_into(oidc_codes::table).values(c).execute(conn)
}

pub fn find_code(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Code>> {
    oidc_codes::table.find(hash).first(conn).optional()
}

/// Marks a code used; false when it already was (a concurrent exchange won).
pub fn use_code(conn: &mut DbConn, hash: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(oidc_codes::table.find(hash).filter(oidc_codes::used_at.is_null()))
        .set(oidc_codes::used_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// How long a used code is kept after it expired, to recognise (and punish) a replay.
pub const USED_CODE_KEPT_SECS: i64 = 86_400;

/// Deletes the codes of no more use (the periodic sweep): expired unused ones at once, used
/// ones a day after they expired (until then a replay still revokes what they issued).
pub fn purge_codes(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    diesel::delete(
        oidc_codes::table.filter(
            oidc_codes::expires_at
                .le(now)
                .and(oidc_codes::used_at.is_null())
                .or(oidc_codes::expires_at.lt(now - USED_CODE_KEPT_SECS)),
        ),
    )
    .execute(conn)
}

/// Deletes the tokens of no more use (the periodic sweep): expired access tokens, and every
/// token of a family that has no live refresh token left (all expired or revoked). Rotated
/// refresh tokens of a live family stay: presenting one again must still revoke the family.
pub fn purge_tokens(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    use diesel::sql_types::BigInt;
    let sql = |p: &str| {
        format!(
            "DELETE FROM oidc_tokens WHERE (kind = '{ACCESS}' AND expires_at <= {p}) OR family NOT IN \
             (SELECT family FROM oidc_tokens WHERE kind = '{REFRESH}' AND expires_at > {p} AND revoked_at IS NULL)"
        )
    };
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql("?1")).bind::<BigInt, _>(now).execute(c),
        DbConn::Pg(c) => diesel::sql_query(sql("$1")).bind::<BigInt, _>(now).execute(c),
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => diesel::sql_query(sql("?")).bind::<BigInt, _>(now).bind::<BigInt, _>(now).execute(c),
    }
}

pub fn insert_token(conn: &mut DbConn, t: &Token) -> QueryResult<usize> {
    diesel::insert_into(oidc_tokens::table).values(t).execute(conn)
}

pub fn find_token(conn: &mut DbConn, hash: &str, kind: &str) -> QueryResult<Option<Token>> {
    oidc_tokens::table.find(hash).filter(oidc_tokens::kind.eq(kind)).first(conn).optional()
}

/// Marks a refresh token rotated; false when it already was.
pub fn use_token(conn: &mut DbConn, hash: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(oidc_tokens::table.find(hash).filter(oidc_tokens::used_at.is_null()))
        .set(oidc_tokens::used_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every token of a refresh family.
pub fn revoke_family(conn: &mut DbConn, family: &str, now: i64) -> QueryResult<usize> {
    diesel::update(oidc_tokens::table.filter(oidc_tokens::family.eq(family)).filter(oidc_tokens::revoked_at.is_null()))
        .set(oidc_tokens::revoked_at.eq(now))
        .execute(conn)
}

/// Revokes every token issued from a code.
pub fn revoke_from_code(conn: &mut DbConn, code_hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        oidc_tokens::table.filter(oidc_tokens::code_hash.eq(code_hash)).filter(oidc_tokens::revoked_at.is_null()),
    )
    .set(oidc_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every token of an account at a client (RP-initiated logout).
pub fn revoke_for(conn: &mut DbConn, account_id: &str, client_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        oidc_tokens::table
            .filter(oidc_tokens::account_id.eq(account_id))
            .filter(oidc_tokens::client_id.eq(client_id))
            .filter(oidc_tokens::revoked_at.is_null()),
    )
    .set(oidc_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every unrevoked access and refresh token of an account, at every client (its
/// password changed, or it was suspended, reset or erased).
pub fn revoke_all_for_account(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        oidc_tokens::table.filter(oidc_tokens::account_id.eq(account_id)).filter(oidc_tokens::revoked_at.is_null()),
    )
    .set(oidc_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Deletes the account's codes not yet exchanged (they then answer "unknown code"); used ones
/// stay, so that a replay still revokes what was issued from them.
pub fn delete_unused_codes_for_account(conn: &mut DbConn, account_id: &str) -> QueryResult<usize> {
    diesel::delete(
        oidc_codes::table.filter(oidc_codes::account_id.eq(account_id)).filter(oidc_codes::used_at.is_null()),
    )
    .execute(conn)
}
