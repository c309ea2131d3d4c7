//! `GET /auth/verify?service=SLUG[&redirect=true]`: forward authentication for nginx
//! `auth_request`, Caddy `forward_auth` and Traefik `ForwardAuth` (DESIGN §6). It runs on every
//! request of the protected site, so it only reads: the session is looked at, never touched.

use poem::http::{HeaderValue, StatusCode};
use poem::web::{Data, Query};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;

use crate::access::returns::follow;
use crate::accounts::access::{admit, grants_of, open_slugs};
use crate::accounts::model::{self as accounts, Account};
use crate::clock::rfc3339;
use crate::error::json_error;
use crate::http::client_ip::from_trusted_proxy;
use crate::sessions::service::peek;
use crate::state::AppState;

/// The query of `/auth/verify`.
#[derive(Deserialize)]
pub struct VerifyParams {
    /// The service the protected site sells; without it, any open access will do.
    #[serde(default)]
    service: Option<String>,
    /// `true`: answer a missing session with a 302 to the login page (Caddy, Traefik).
    #[serde(default)]
    redirect: Option<String>,
}

/// The forward-auth check.
#[handler]
pub async fn get_auth_verify(req: &Request, Query(q): Query<VerifyParams>, state: Data<&AppState>) -> Response {
    let account = match peek(&state, req).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let redirect = matches!(q.redirect.as_deref(), Some("true" | "1" | "yes"));
    let Some(account) = account.filter(|a| a.status == accounts::ACTIVE || a.status == accounts::SUSPENDED) else {
        return unauthenticated(&state, req, redirect);
    };
    if account.status == accounts::SUSPENDED {
        return refuse(&account, "suspended");
    }
    if account.must_change_password {
        return refuse(&account, "password_change_required");
    }
    let id = account.id.clone();
    let asked = q.service.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let (grants, service) = match state.db.read(move |c| Ok((grants_of(c, &id)?, current(c, asked)?))).await {
        Ok(found) => found,
        Err(e) => return crate::http::api_error::ApiError::from(e).into_response(),
    };
    let now = state.clock.now();
    match admit(&grants, service.as_deref(), now) {
        Ok(grant) => {
            let groups = open_slugs(&grants, now).join(",");
            let mut resp = Response::builder()
                .status(StatusCode::OK)
                .header("Remote-User", account.login.as_str())
                .header("Remote-Email", account.email.as_str())
                .header("Remote-Groups", groups)
                .header("X-Keyturn-Active-Until", rfc3339(grant.active_until))
                .header("X-Keyturn-Access-State", grant.state(now).as_str())
                .header("Cache-Control", "no-store")
                .body(());
            resp.headers_mut().insert("Remote-Name", header_text(&account.name));
            resp
        }
        Err(why) => refuse(&account, why.code()),
    }
}

/// The slug the proxy asks about as grants carry it: an old slug of a renamed service names
/// the service (proxy configurations are not edited on a rename).
pub(crate) fn current(c: &mut crate::db::DbConn, asked: Option<String>) -> diesel::QueryResult<Option<String>> {
    asked.map(|s| crate::catalog::aliases::current_slug(c, &s)).transpose()
}

/// A header value from free text: UTF-8 bytes as they are, control characters dropped.
fn header_text(s: &str) -> HeaderValue {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    HeaderValue::from_bytes(clean.trim().as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// 403 with the reason a logged-in customer may not pass.
fn refuse(account: &Account, reason: &'static str) -> Response {
    tracing::info!(event = "authz_fail", account_id = %account.id, reason, "forward auth refused");
    let mut resp = json_error(StatusCode::FORBIDDEN, reason, "This account has no open access to this service.");
    resp.headers_mut().insert("X-Keyturn-Reason", HeaderValue::from_static(reason));
    resp
}

/// 401, or with `redirect=true` a 302 to the login page that brings the customer back.
fn unauthenticated(state: &AppState, req: &Request, redirect: bool) -> Response {
    if !redirect {
        return json_error(StatusCode::UNAUTHORIZED, "unauthenticated", "Please log in.");
    }
    let mut location = state.link("/cabinet");
    let proxied = from_trusted_proxy(req, &state.settings.trusted_proxies);
    if let Some(rd) = forwarded_url(req).filter(|_| proxied).and_then(|u| follow(&u, &state.settings)) {
        let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("rd", &rd).finish();
        location = format!("{location}?{query}");
    }
    Response::builder()
        .status(StatusCode::FOUND)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .body(())
}

/// `<X-Forwarded-Proto>://<X-Forwarded-Host><X-Forwarded-Uri>` as the proxy reports it; only
/// read from a trusted proxy (`trusted_proxies`), and only ever used as a return URL, which is
/// checked against `return_hosts` before anyone follows it.
fn forwarded_url(req: &Request) -> Option<String> {
    let proto = req.header("x-forwarded-proto").unwrap_or("https").trim();
    let host = req.header("x-forwarded-host")?.trim();
    let uri = req.header("x-forwarded-uri").unwrap_or("/").trim();
    if !matches!(proto, "http" | "https") || !uri.starts_with('/') || uri.starts_with("//") {
        return None;
    }
    Some(format!("{proto}://{host}{uri}"))
}
