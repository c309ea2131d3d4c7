//! `GET|POST /oauth2/authorize`: the browser leg of the authorization code flow.
//!
//! The client and its exact redirect URI are checked first: until both are known good, errors
//! are shown on a page here and NEVER sent to the redirect URI (RFC 9700 §4.1). Then
//! `response_type=code`, `openid` in the scope, and PKCE with S256 (required; `plain` refused);
//! those errors go back to the client. A customer who is not logged in (or still on the
//! temporary password) goes to the cabinet's login, which returns here. A client bound to a
//! service turns away a customer without open access to it: a page offers to buy or renew,
//! and its "Continue" link returns `error=access_denied` to the client. With `prompt=none`
//! neither page is shown: the client gets `login_required` or `access_denied` (OpenID Connect
//! Core §3.1.2.6). `auth_time` is the login time of the customer's session; `max_age` is
//! checked only with `prompt=none` (there is no forced re-login; the client can compare
//! `auth_time` itself). No consent screen: the clients are the merchant's own apps.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::access::{admit, grants_of, Refusal};
use crate::accounts::model::{Account, ACTIVE};
use crate::crypto::{is_key, random_token, token_hash};
use crate::http::api_error::ApiError;
use crate::http::pages::{esc, page_in};
use crate::i18n::{Lang, Locale};
use crate::oidc::claims::has_scope;
use crate::oidc::model::{self, Client, Code};
use crate::oidc::{issuer, CODE_TTL_SECS, SCOPES};
use crate::sessions::service::peek_session;
use crate::state::AppState;

/// The authorization request's parameters.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AuthParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    /// The languages the app would like its customer to read our pages in (OpenID Connect
    /// Core §3.1.2.1), space-separated tags in order of preference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
}

/// The language of our pages for this request: the app's `ui_locales` (first one we speak),
/// else the visitor's own (`?lang=`, cookie, browser).
fn page_lang(req: &Request, p: &AuthParams) -> Lang {
    let asked = p.ui_locales.as_deref().unwrap_or_default().split_whitespace().find_map(Locale::from_tag);
    asked.map(Lang::fixed).unwrap_or_else(|| Lang::of(req).without_switcher())
}

const PATH: &str = "/oauth2/authorize";

/// The longest return URL the cabinet login follows back to an authorization request.
pub const MAX_RETURN_LEN: usize = 4096;

/// The authorization request from a query string.
#[handler]
pub async fn get_authorize(req: &Request, Query(p): Query<AuthParams>, state: Data<&AppState>) -> Response {
    authorize(&state, req, p).await
}

/// The authorization request from a form post.
#[handler]
pub async fn post_authorize(req: &Request, Form(p): Form<AuthParams>, state: Data<&AppState>) -> Response {
    authorize(&state, req, p).await
}

/// `rd` for the cabinet login when it is one of our own authorization requests (the
/// cabinet sends the customer back here after login).
pub fn own_return(rd: &str, state: &AppState) -> Option<String> {
    let prefix = format!("{}{PATH}?", issuer(state));
    (rd.starts_with(&prefix) && rd.len() <= MAX_RETURN_LEN && !rd.chars().any(|c| c.is_control() || c.is_whitespace()))
        .then(|| rd.to_string())
}

/// `uri` with `pairs` added to its query.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return uri.to_string();
    }
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => uri.to_string(),
    }
}

fn failed(state: &AppState, lang: &Lang, e: ApiError) -> Response {
    let (status, message) = crate::http::pages::said(state, lang.locale, &e);
    crate::http::pages::error_page_in(status, state, lang, &message)
}

fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .finish()
}

/// Our own page for a request we cannot answer to its app; `reason` (a message id) says why.
fn error_here(state: &AppState, lang: &Lang, reason: &str) -> Response {
    tracing::warn!(event = "oidc_authorize_refused", reason, "authorization request refused on our page");
    let t = |id: &str| state.catalog.t(lang.locale, id);
    let body = format!("<p class=\"error\">{}</p><p>{}</p>", t(reason), t("oi-app-misconfigured"));
    page_in(StatusCode::BAD_REQUEST, lang, &state.settings.product_name, &t("oi-request-invalid-title"), &body)
}

/// An error answer to a client whose redirect URI is registered.
fn error_back(state: &AppState, redirect_uri: &str, p: &AuthParams, error: &str, description: &str) -> Response {
    see_other(&error_url(state, redirect_uri, p, error, description))
}

fn error_url(state: &AppState, redirect_uri: &str, p: &AuthParams, error: &str, description: &str) -> String {
    let iss = issuer(state);
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = p.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &iss));
    with_query(redirect_uri, &pairs)
}

/// True for a PKCE S256 challenge: 43 base64url characters (a SHA-256).
fn is_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn authorize(state: &AppState, req: &Request, p: AuthParams) -> Response {
    let lang = page_lang(req, &p);
    let client_id = p.client_id.clone().unwrap_or_default();
    let client = if is_key(&client_id) {
        match state.db.read(move |c| Ok(model::find_client(c, &client_id)?)).await {
            Ok(c) => c,
            Err(e) => return failed(state, &lang, e.into()),
        }
    } else {
        None
    };
    let Some(client) = client else { return error_here(state, &lang, "oi-unknown-client") };
    let Some(redirect_uri) = p.redirect_uri.clone().filter(|r| client.redirect_uris().contains(r)) else {
        return error_here(state, &lang, "oi-bad-redirect");
    };
    let back = |error: &str, description: &str| error_back(state, &redirect_uri, &p, error, description);
    if p.response_type.as_deref() != Some("code") {
        return back("unsupported_response_type", "Only response_type=code is supported.");
    }
    let scope = p.scope.as_deref().unwrap_or_default();
    if !has_scope(scope, "openid") {
        return back("invalid_scope", "The scope must include openid.");
    }
    let scope: Vec<&str> = SCOPES.into_iter().filter(|s| has_scope(scope, s)).collect();
    match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
        (None, _) => return back("invalid_request", "PKCE is required: send code_challenge with method S256."),
        (Some(_), Some(m)) if m != "S256" => return back("invalid_request", "code_challenge_method must be S256."),
        (Some(_), None) => return back("invalid_request", "code_challenge_method must be S256."),
        (Some(c), _) if !is_challenge(c) => return back("invalid_request", "code_challenge is not a S256 challenge."),
        _ => {}
    }
    if p.state.as_deref().is_some_and(|s| s.len() > 1024) || p.nonce.as_deref().is_some_and(|n| n.len() > 512) {
        return back("invalid_request", "state or nonce is too long.");
    }
    if [&p.state, &p.nonce].into_iter().flatten().any(|v| v.chars().any(char::is_control)) {
        return back("invalid_request", "state or nonce contains control characters.");
    }
    // prompt=none (OpenID Connect Core §3.1.2.6): whatever would need the customer's
    // interaction (a login, the buy-or-renew page) is answered to the client instead.
    let prompt: Vec<&str> = p.prompt.as_deref().unwrap_or_default().split(' ').filter(|v| !v.is_empty()).collect();
    let silent = prompt.contains(&"none");
    if silent && prompt.len() > 1 {
        return back("invalid_request", "prompt=none cannot be combined with other prompt values.");
    }
    let max_age = match p.max_age.as_deref().filter(|v| !v.is_empty()).map(str::parse::<u32>) {
        None => None,
        Some(Ok(secs)) => Some(i64::from(secs)),
        Some(Err(_)) => return back("invalid_request", "max_age must be a number of seconds."),
    };
    let (account, auth_time) = match peek_session(state, req).await {
        Ok(Some((s, a))) if a.status == ACTIVE && !a.must_change_password => (a, s.created_at),
        Ok(_) if silent => return back("login_required", "The customer is not logged in."),
        Ok(_) => {
            let here = format!("{}{PATH}?{}", issuer(state), serde_urlencoded::to_string(&p).unwrap_or_default());
            if here.len() > MAX_RETURN_LEN {
                // The login could not return here: say so now rather than lose the request.
                return back("invalid_request", "The authorization request is too long.");
            }
            let mut query = vec![("rd", here.as_str())];
            let code = lang.locale.code();
            if p.ui_locales.is_some() {
                query.push(("lang", code));
            }
            return see_other(&with_query(&state.link("/cabinet"), &query));
        }
        Err(e) => return failed(state, &lang, e),
    };
    if silent && max_age.is_some_and(|m| state.clock.now() - auth_time > m) {
        return back("login_required", "The customer's login is older than max_age.");
    }
    if let Some(slug) = client.service_slug.clone() {
        match turned_away(state, &account, &slug).await {
            Ok(None) => {}
            Ok(Some(_)) if silent => return back("access_denied", "No active access to the service."),
            Ok(Some(refusal)) => {
                let cont = error_url(state, &redirect_uri, &p, "access_denied", "No active access to the service.");
                let lang = if p.ui_locales.is_some() { lang } else { lang.prefer(Some(&account.locale)) };
                return buy_or_renew(state, &lang, &client, &account, &slug, refusal, &cont).await;
            }
            Err(e) => return failed(state, &lang, e),
        }
    }
    match issue_code(state, &client, &account, auth_time, &redirect_uri, &p, &scope.join(" ")).await {
        Ok(code) => {
            let iss = issuer(state);
            let mut pairs = vec![("code", code.as_str())];
            if let Some(s) = p.state.as_deref() {
                pairs.push(("state", s));
            }
            pairs.push(("iss", &iss));
            see_other(&with_query(&redirect_uri, &pairs))
        }
        Err(e) => failed(state, &lang, e),
    }
}

/// Why the account may not enter `slug`'s service now, if it may not.
async fn turned_away(state: &AppState, account: &Account, slug: &str) -> Result<Option<Refusal>, ApiError> {
    let id = account.id.to_string();
    let grants = state.db.read(move |c| Ok(grants_of(c, &id)?)).await?;
    Ok(admit(&grants, Some(slug), state.clock.now()).err())
}

async fn issue_code(
    state: &AppState,
    client: &Client,
    account: &Account,
    auth_time: i64,
    redirect_uri: &str,
    p: &AuthParams,
    scope: &str,
) -> Result<String, ApiError> {
    let code = random_token();
    let now = state.clock.now();
    let row = Code {
        code_hash: token_hash(&code),
        client_id: client.client_id.clone(),
        account_id: account.id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        code_challenge: p.code_challenge.clone().unwrap_or_default(),
        nonce: p.nonce.clone(),
        scope: scope.to_string(),
        auth_time,
        created_at: now,
        expires_at: now + CODE_TTL_SECS,
        used_at: None,
    };
    state.db.write(move |c| Ok(model::insert_code(c, &row)?)).await?;
    tracing::info!(event = "oidc_code_issued", client_id = %client.client_id, account_id = %account.id, "authorization code issued");
    Ok(code)
}

/// The page for a customer a bound client turns away: buy or renew the service here (the
/// site-builder order form, prefilled), or continue to the app, which learns `access_denied`.
async fn buy_or_renew(
    state: &AppState,
    lang: &Lang,
    client: &Client,
    account: &Account,
    slug: &str,
    refusal: Refusal,
    continue_url: &str,
) -> Response {
    tracing::info!(event = "authz_fail", client_id = %client.client_id, account_id = %account.id, reason = refusal.code(), "OIDC client refused a customer without access");
    let l = lang.locale;
    let s = slug.to_string();
    let service = state.db.read(move |c| Ok(crate::catalog::model::find_by_slug(c, &s)?)).await.ok().flatten();
    let raw_name = service.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| slug.to_string());
    let name = esc(&raw_name);
    let app = esc(&client.name);
    let why = match refusal {
        Refusal::NoAccess => state.catalog.tr(l, "oi-no-access", &[("service", name.clone().into())]),
        Refusal::Expired => state.catalog.tr(l, "oi-ended", &[("service", name.clone().into())]),
    };
    let offer = match service.filter(|s| s.active) {
        Some(s) => {
            let period = esc(&state.catalog.tr(l, "days", &[("count", s.period_days.into())]));
            let button = if refusal == Refusal::Expired { "oi-renew" } else { "oi-buy" };
            format!(
                "<form method=\"post\" action=\"/forms/order\">\
                 <input type=\"hidden\" name=\"service\" value=\"{}\"><input type=\"hidden\" name=\"name\" value=\"{}\">\
                 <input type=\"hidden\" name=\"email\" value=\"{}\"><input type=\"hidden\" name=\"locale\" value=\"{}\">\
                 <button type=\"submit\">{}</button></form>",
                esc(&s.slug),
                esc(&account.name),
                esc(&account.email),
                l.code(),
                state.catalog.tr(l, button, &[("service", esc(&s.name).into()), ("period", period.into())]),
            )
        }
        None => format!("<p class=\"muted\">{}</p>", state.catalog.t(l, "oi-cannot-buy")),
    };
    let title =
        state.catalog.tr(l, "oi-needs-title", &[("app", client.name.clone().into()), ("service", raw_name.into())]);
    let body = format!(
        "<p class=\"error\">{why}</p>{offer}<p><a id=\"continue\" href=\"{}\">{}</a></p>",
        esc(continue_url),
        state.catalog.tr(l, "oi-continue", &[("app", app.into())])
    );
    page_in(StatusCode::FORBIDDEN, lang, &state.settings.product_name, &title, &body)
}
