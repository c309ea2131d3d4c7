//! `POST /oauth2/token`: the code exchange (PKCE S256 checked) and refresh-token rotation.
//! Errors are RFC 6749 §5.2 bodies `{error, error_description}` (400; 401 `invalid_client`),
//! not the API's `{error, message}`: this endpoint speaks to OAuth libraries.
//!
//! A code is single-use and bound to its client, redirect URI and PKCE verifier; presenting a
//! used code revokes every token issued from it. A refresh token rotates on each use; a rotated
//! one presented again revokes its whole family (RFC 9700 §4.14).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::access::{admit, grants_of, Grant};
use crate::accounts::model::{self as accounts, Account, ACTIVE};
use crate::crypto::{random_id, random_token, token_hash};
use crate::db::{DbConn, DbError};
use crate::oidc::claims::user_claims;
use crate::oidc::model::{self, Client, SigningKey, Token, ACCESS, REFRESH};
use crate::oidc::{issuer, keys, REFRESH_TTL_SECS, TOKEN_TTL_SECS};
use crate::state::AppState;

/// An RFC 6749 error answer.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status: StatusCode::BAD_REQUEST, error, description: description.into(), basic: false }
    }

    fn invalid_client(basic: bool) -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "Client authentication failed.".into(),
            basic,
        }
    }

    fn grant(description: &str) -> Self {
        OAuthError::new("invalid_grant", description)
    }

    /// The JSON answer.
    pub fn response(self) -> Response {
        let mut b = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .header("Cache-Control", "no-store")
            .header("Pragma", "no-cache");
        if self.basic {
            b = b.header("WWW-Authenticate", "Basic realm=\"keyturn\"");
        }
        b.body(json!({"error": self.error, "error_description": self.description}).to_string())
    }
}

impl From<DbError> for OAuthError {
    fn from(e: DbError) -> Self {
        tracing::error!(event = "oidc_token_failed", error = %e, "token endpoint failed");
        let status = match e {
            DbError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        OAuthError { status, error: "server_error", description: "Please try again later.".into(), basic: false }
    }
}

/// The form fields, first occurrence wins; a repeated field is refused (RFC 6749 §3.2).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
    fn repeated(&self) -> bool {
        self.0.iter().enumerate().any(|(i, (k, _))| self.0[..i].iter().any(|(n, _)| n == k))
    }
}

/// The token endpoint.
#[handler]
pub async fn post_token(req: &Request, body: Vec<u8>, state: Data<&AppState>) -> Response {
    match token(&state, req, &body).await {
        Ok(v) => Response::builder()
            .content_type("application/json")
            .header("Cache-Control", "no-store")
            .header("Pragma", "no-cache")
            .body(v.to_string()),
        Err(e) => e.response(),
    }
}

async fn token(state: &AppState, req: &Request, body: &[u8]) -> Result<Value, OAuthError> {
    let ct = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::new("invalid_request", "Send the request as application/x-www-form-urlencoded."));
    }
    let fields = Fields(
        serde_urlencoded::from_bytes(body)
            .map_err(|_| OAuthError::new("invalid_request", "The form could not be read."))?,
    );
    if fields.repeated() {
        return Err(OAuthError::new("invalid_request", "A parameter is repeated."));
    }
    if fields.0.iter().any(|(k, v)| k.chars().chain(v.chars()).any(char::is_control)) {
        return Err(OAuthError::new("invalid_request", "A parameter contains control characters."));
    }
    let client = authenticate_client(state, req, &fields).await?;
    match fields.get("grant_type") {
        Some("authorization_code") => exchange_code(state, &client, &fields).await,
        Some("refresh_token") => refresh(state, &client, &fields).await,
        Some(_) => Err(OAuthError::new("unsupported_grant_type", "Use authorization_code or refresh_token.")),
        None => Err(OAuthError::new("invalid_request", "grant_type is missing.")),
    }
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let h = req.header("authorization")?;
    let encoded = h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

/// `client_secret_basic`, `client_secret_post`, or a public client's bare `client_id`.
async fn authenticate_client(state: &AppState, req: &Request, f: &Fields) -> Result<Client, OAuthError> {
    let basic = basic_credentials(req);
    if req.header("authorization").is_some() && basic.is_none() {
        return Err(OAuthError::invalid_client(true));
    }
    let is_basic = basic.is_some();
    let (id, secret) = match basic {
        Some((id, secret)) => {
            if f.get("client_secret").is_some() || f.get("client_id").is_some_and(|c| c != id) {
                return Err(OAuthError::new("invalid_request", "Use one client authentication method."));
            }
            (id, Some(secret))
        }
        None => (f.get("client_id").unwrap_or_default().to_string(), f.get("client_secret").map(String::from)),
    };
    let lookup = id.clone();
    let client = if crate::crypto::is_key(&id) {
        state.db.read(move |c| Ok(model::find_client(c, &lookup)?)).await?
    } else {
        None
    };
    let refused = || {
        tracing::warn!(event = "authn_oidc_client_fail", "OIDC client authentication failed");
        OAuthError::invalid_client(is_basic)
    };
    let client = client.ok_or_else(refused)?;
    match (&client.secret_hash, secret) {
        (None, None) => Ok(client),
        (Some(stored), Some(given)) if bool::from(token_hash(&given).as_bytes().ct_eq(stored.as_bytes())) => Ok(client),
        _ => Err(refused()),
    }
}

/// What a successful exchange issued.
struct Issued {
    account: Account,
    grants: Vec<Grant>,
    scope: String,
    nonce: Option<String>,
    auth_time: i64,
    access: String,
    refresh: String,
}

fn new_tokens(
    c: &mut DbConn,
    client_id: &str,
    from: (&str, &str, &str, i64),
    now: i64,
) -> Result<(String, String), DbError> {
    let (account_id, scope, code_hash, auth_time) = from;
    let family = random_id("fam");
    new_pair(c, client_id, account_id, scope, &family, code_hash, auth_time, now)
}

#[allow(clippy::too_many_arguments)]
fn new_pair(
    c: &mut DbConn,
    client_id: &str,
    account_id: &str,
    scope: &str,
    family: &str,
    code_hash: &str,
    auth_time: i64,
    now: i64,
) -> Result<(String, String), DbError> {
    let access = format!("kta_{}", random_token());
    let refresh = format!("ktr_{}", random_token());
    for (plain, kind, ttl) in [(&access, ACCESS, TOKEN_TTL_SECS), (&refresh, REFRESH, REFRESH_TTL_SECS)] {
        model::insert_token(
            c,
            &Token {
                token_hash: token_hash(plain),
                kind: kind.into(),
                client_id: client_id.into(),
                account_id: account_id.into(),
                scope: scope.into(),
                family: family.into(),
                code_hash: code_hash.into(),
                auth_time,
                created_at: now,
                expires_at: now + ttl,
                used_at: None,
                revoked_at: None,
            },
        )?;
    }
    Ok((access, refresh))
}

/// The account and its grants when it may still sign in (active, own password set) and, at a
/// client bound to a service, still has access to it; else why not. Checked inside the
/// exchange's transaction BEFORE the code or refresh token is marked used, so that a refusal
/// (or a failure) leaves it usable for a retry once the cause is gone.
fn admitted(
    c: &mut DbConn,
    account_id: &str,
    slug: Option<&str>,
    now: i64,
) -> Result<Result<(Account, Vec<Grant>), &'static str>, DbError> {
    let Some(account) = accounts::find_by_id(c, account_id)?.filter(|a| a.status == ACTIVE && !a.must_change_password)
    else {
        return Ok(Err("account cannot sign in"));
    };
    let grants = grants_of(c, account_id)?;
    if slug.is_some() && admit(&grants, slug, now).is_err() {
        return Ok(Err("no active access to the client's service"));
    }
    Ok(Ok((account, grants)))
}

/// PKCE S256: BASE64URL(SHA256(verifier)) == challenge, verifier 43–128 unreserved characters.
fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

async fn exchange_code(state: &AppState, client: &Client, f: &Fields) -> Result<Value, OAuthError> {
    let (Some(code), Some(redirect_uri)) = (f.get("code"), f.get("redirect_uri")) else {
        return Err(OAuthError::new("invalid_request", "code and redirect_uri are required."));
    };
    let Some(verifier) = f.get("code_verifier").map(String::from) else {
        return Err(OAuthError::new("invalid_request", "code_verifier is required (PKCE)."));
    };
    let hash = token_hash(code);
    let (client_id, redirect_uri) = (client.client_id.clone(), redirect_uri.to_string());
    let slug = client.service_slug.clone();
    let now = state.clock.now();
    let key = keys::signing_key(&state.db, now).await?;
    let outcome = state
        .db
        .write(move |c| {
            let Some(code) = model::find_code(c, &hash)? else { return Ok(Err("unknown code")) };
            if code.client_id != client_id {
                return Ok(Err("code issued to another client"));
            }
            let (account, grants) = if code.used_at.is_some() {
                None
            } else {
                match admitted(c, &code.account_id, slug.as_deref(), now)? {
                    Ok(admitted) => Some(admitted),
                    Err(why) => return Ok(Err(why)),
                }
            }
            .unzip();
            if code.used_at.is_some() || !model::use_code(c, &hash, now)? {
                let revoked = model::revoke_from_code(c, &hash, now)?;
                tracing::warn!(event = "oidc_code_reused", client_id = %client_id, revoked, "authorization code reused; its tokens are revoked");
                return Ok(Err("code already used"));
            }
            if code.expires_at <= now {
                return Ok(Err("code expired"));
            }
            if code.redirect_uri != redirect_uri {
                return Ok(Err("redirect_uri does not match"));
            }
            if !pkce_ok(&verifier, &code.code_challenge) {
                return Ok(Err("code_verifier does not match"));
            }
            let (Some(account), Some(grants)) = (account, grants) else { return Ok(Err("account cannot sign in")) };
            let (access, refresh) =
                new_tokens(c, &client_id, (&code.account_id, &code.scope, &hash, code.auth_time), now)?;
            let (scope, nonce, auth_time) = (code.scope, code.nonce, code.auth_time);
            Ok(Ok(Issued { account, grants, scope, nonce, auth_time, access, refresh }))
        })
        .await?
        .map_err(|why| {
            tracing::info!(event = "oidc_grant_refused", client_id = %client.client_id, reason = why, "code exchange refused");
            OAuthError::grant(why)
        })?;
    answer(state, client, key, outcome)
}

async fn refresh(state: &AppState, client: &Client, f: &Fields) -> Result<Value, OAuthError> {
    let Some(presented) = f.get("refresh_token") else {
        return Err(OAuthError::new("invalid_request", "refresh_token is required."));
    };
    let hash = token_hash(presented);
    let client_id = client.client_id.clone();
    let slug = client.service_slug.clone();
    let now = state.clock.now();
    let key = keys::signing_key(&state.db, now).await?;
    let outcome = state
        .db
        .write(move |c| {
            let Some(t) = model::find_token(c, &hash, REFRESH)? else { return Ok(Err("unknown refresh token")) };
            if t.client_id != client_id {
                return Ok(Err("refresh token issued to another client"));
            }
            if t.revoked_at.is_some() {
                return Ok(Err("refresh token revoked"));
            }
            let (account, grants) = if t.used_at.is_some() || t.expires_at <= now {
                None
            } else {
                match admitted(c, &t.account_id, slug.as_deref(), now)? {
                    Ok(admitted) => Some(admitted),
                    Err(why) => return Ok(Err(why)),
                }
            }
            .unzip();
            if t.used_at.is_some() || !model::use_token(c, &hash, now)? {
                let revoked = model::revoke_family(c, &t.family, now)?;
                tracing::warn!(event = "oidc_refresh_reused", client_id = %client_id, revoked, "rotated refresh token reused; its family is revoked");
                return Ok(Err("refresh token already used"));
            }
            if t.expires_at <= now {
                return Ok(Err("refresh token expired"));
            }
            let (Some(account), Some(grants)) = (account, grants) else { return Ok(Err("account cannot sign in")) };
            let (access, refresh) =
                new_pair(c, &client_id, &t.account_id, &t.scope, &t.family, &t.code_hash, t.auth_time, now)?;
            Ok(Ok(Issued { account, grants, scope: t.scope, nonce: None, auth_time: t.auth_time, access, refresh }))
        })
        .await?
        .map_err(OAuthError::grant)?;
    answer(state, client, key, outcome)
}

/// `at_hash`: the left half of the access token's SHA-256, base64url (OpenID Connect Core §3.1.3.6).
fn at_hash(access: &str) -> String {
    let digest = Sha256::digest(access.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The token response, with an ID token signed by `key` (loaded before the exchange).
fn answer(state: &AppState, client: &Client, key: SigningKey, i: Issued) -> Result<Value, OAuthError> {
    let now = state.clock.now();
    let mut claims = user_claims(&i.account, &i.grants, &i.scope, now);
    claims.insert("iss".into(), json!(issuer(state)));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("azp".into(), json!(client.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + TOKEN_TTL_SECS));
    claims.insert("auth_time".into(), json!(i.auth_time));
    claims.insert("at_hash".into(), json!(at_hash(&i.access)));
    if let Some(n) = i.nonce {
        claims.insert("nonce".into(), json!(n));
    }
    let id_token = keys::sign_with(key, &Value::Object(claims))?;
    tracing::info!(event = "oidc_tokens_issued", client_id = %client.client_id, account_id = %i.account.id, "tokens issued");
    Ok(json!({
        "access_token": i.access,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL_SECS,
        "refresh_token": i.refresh,
        "id_token": id_token,
        "scope": i.scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b_and_nothing_else() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_ok(verifier, challenge));
        assert!(!pkce_ok(verifier, verifier), "plain is not S256");
        assert!(!pkce_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", challenge));
        assert!(!pkce_ok("short", &URL_SAFE_NO_PAD.encode(Sha256::digest(b"short"))), "43 characters at least");
        let spaced = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX k";
        assert!(!pkce_ok(spaced, &URL_SAFE_NO_PAD.encode(Sha256::digest(spaced.as_bytes()))), "unreserved only");
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").len(), 22);
    }
}
