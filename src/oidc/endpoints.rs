//! `GET /.well-known/openid-configuration`, `GET /oauth2/jwks` and `GET|POST /oauth2/userinfo`
//! (RP-initiated logout is `logout`).

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, Request, Response};
use serde_json::{json, Value};

use crate::accounts::access::grants_of;
use crate::accounts::model::{self as accounts, ACTIVE};
use crate::crypto::token_hash;
use crate::oidc::claims::user_claims;
use crate::oidc::model::{self, ACCESS};
use crate::oidc::{issuer, keys, SCOPES};
use crate::state::AppState;

fn json_response(v: &Value, cache: &str) -> Response {
    Response::builder()
        .content_type("application/json")
        .header("Cache-Control", cache)
        .header("Access-Control-Allow-Origin", "*")
        .body(v.to_string())
}

fn unavailable() -> Response {
    crate::error::json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Please try again later.")
}

/// The discovery document (OpenID Connect Discovery 1.0).
#[handler]
pub fn get_discovery(state: Data<&AppState>) -> Response {
    let iss = issuer(&state);
    let doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth2/authorize"),
        "token_endpoint": format!("{iss}/oauth2/token"),
        "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
        "jwks_uri": format!("{iss}/oauth2/jwks"),
        "end_session_endpoint": format!("{iss}/oauth2/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "email",
            "email_verified", "name", "preferred_username", "entitlements", "active_until"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
    });
    json_response(&doc, "public, max-age=300")
}

/// The published public keys.
#[handler]
pub async fn get_jwks(state: Data<&AppState>) -> Response {
    match keys::jwks(&state.db, state.clock.now()).await {
        Ok(v) => json_response(&v, "public, max-age=300"),
        Err(e) => {
            tracing::error!(event = "oidc_jwks_failed", error = %e, "JWKS failed");
            unavailable()
        }
    }
}

fn invalid_token() -> Response {
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .content_type("application/json")
        .header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
        .header("Cache-Control", "no-store")
        .body(json!({"error": "invalid_token", "error_description": "The access token is not valid."}).to_string())
}

/// The customer's claims for the access token's scope.
#[handler]
pub async fn get_userinfo(req: &Request, state: Data<&AppState>) -> Response {
    let presented = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| t.starts_with("kta_") && t.len() <= 128);
    let Some(presented) = presented else { return invalid_token() };
    let hash = token_hash(presented);
    let now = state.clock.now();
    let found = state
        .db
        .read(move |c| {
            let Some(t) = model::find_token(c, &hash, ACCESS)? else { return Ok(None) };
            if t.revoked_at.is_some() || t.expires_at <= now {
                return Ok(None);
            }
            let Some(a) = accounts::find_by_id(c, &t.account_id)? else { return Ok(None) };
            let grants = grants_of(c, &t.account_id)?;
            Ok(Some((t, a, grants)))
        })
        .await;
    match found {
        Ok(Some((t, a, grants))) if a.status == ACTIVE && !a.must_change_password => {
            json_response(&Value::Object(user_claims(&a, &grants, &t.scope, now)), "no-store")
        }
        Ok(_) => invalid_token(),
        Err(_) => unavailable(),
    }
}
