//! `GET /.well-known/openid-configuration`, `GET /oauth2/jwks`, `GET|POST /oauth2/userinfo`
//! and `GET /oauth2/logout` (RP-initiated logout).

use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::accounts::access::grants_of;
use crate::accounts::model::{self as accounts, ACTIVE};
use crate::crypto::{is_key, token_hash};
use crate::http::pages::page;
use crate::oidc::authorize::with_query;
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

#[derive(Deserialize)]
pub struct LogoutParams {
    #[serde(default)]
    id_token_hint: Option<String>,
    #[serde(default)]
    post_logout_redirect_uri: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct Hint {
    aud: Value,
    sub: String,
}

fn logout_page(state: &AppState, status: StatusCode, title: &str, text: &str) -> Response {
    page(status, &state.settings.product_name, title, &format!("<p>{text}</p>"))
}

/// RP-initiated logout: ends the keyturn session; returns to `post_logout_redirect_uri` only
/// when it is registered for the client named by a valid `id_token_hint` (signed by us, RS256)
/// or, without a hint, by `client_id`. A hint we did not sign is refused on a page, session kept.
#[handler]
pub async fn get_logout(req: &Request, Query(p): Query<LogoutParams>, state: Data<&AppState>) -> Response {
    let now = state.clock.now();
    let hint = match p.id_token_hint.as_deref().filter(|h| h.len() <= 8192) {
        Some(h) => match keys::verify::<Hint>(&state.db, now, h, &issuer(&state), None).await {
            Ok(Some(hint)) => Some(hint),
            Ok(None) => {
                tracing::warn!(event = "oidc_logout_bad_hint", "logout with an id_token_hint we did not issue");
                return logout_page(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "Sign-out request not valid",
                    "The sign-out request was not issued by this service; you are still signed in.",
                );
            }
            Err(_) => return unavailable(),
        },
        None => None,
    };
    // The client: the hint's audience, or (without a hint) the `client_id` parameter.
    let client_id = match &hint {
        Some(h) => match &h.aud {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(String::from),
            _ => None,
        },
        None => p.client_id.clone(),
    };
    if hint.is_some() && p.client_id.is_some() && p.client_id != client_id {
        return logout_page(
            &state,
            StatusCode::BAD_REQUEST,
            "Sign-out request not valid",
            "The sign-out request does not match its app.",
        );
    }
    let client = match client_id.filter(|c| is_key(c)) {
        Some(id) => state.db.read(move |c| Ok(model::find_client(c, &id)?)).await.ok().flatten(),
        None => None,
    };
    let account = crate::sessions::service::peek(&state, req).await.ok().flatten();
    let same_person = match (&account, &hint) {
        (Some(a), Some(h)) => crate::oidc::claims::subject(&a.id) == h.sub,
        _ => false,
    };
    if same_person || hint.is_none() {
        if let Err(e) = crate::sessions::service::logout(&state, req).await {
            tracing::error!(event = "oidc_logout_failed", error = ?e.parts().1.error, "logout failed");
            return unavailable();
        }
        if let (Some(a), Some(c)) = (&account, &client) {
            let (aid, cid) = (a.id.to_string(), c.client_id.clone());
            let _ = state.db.write(move |conn| Ok(model::revoke_for(conn, &aid, &cid, now)?)).await;
        }
    }
    let clear = crate::sessions::service::clear_cookie(&state);
    let target = match (&client, p.post_logout_redirect_uri.as_deref()) {
        (Some(c), Some(uri)) if c.post_logout_redirect_uris().iter().any(|u| u == uri) => {
            let pairs: Vec<(&str, &str)> = p.state.as_deref().map(|s| ("state", s)).into_iter().collect();
            Some(with_query(uri, &pairs))
        }
        (_, Some(_)) => {
            return logout_page(
                &state,
                StatusCode::BAD_REQUEST,
                "Signed out",
                "You are signed out. The address to return to is not registered, so you stay here.",
            )
        }
        _ => None,
    };
    let mut resp = match target {
        Some(t) => Response::builder().status(StatusCode::SEE_OTHER).header("Location", t).finish(),
        None => logout_page(&state, StatusCode::OK, "Signed out", "You are signed out."),
    };
    if same_person || hint.is_none() {
        if let Ok(v) = poem::http::HeaderValue::from_str(&clear) {
            resp.headers_mut().append("Set-Cookie", v);
        }
    }
    resp
}
