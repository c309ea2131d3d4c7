//! `GET|POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Only a valid `id_token_hint` (signed by us, RS256) for a known client ends the session at
//! once and returns to a `post_logout_redirect_uri` registered for that client. Anything else
//! (no hint, or the hint's client deleted) shows a confirmation page whose POST form carries a
//! token derived from the session cookie: another site can link here, but cannot sign a
//! customer out by a bare GET (CSRF). After a confirmed sign-out the page links back to the
//! registered address (a link, not a redirect: the form's `form-action 'self'` would stop a
//! redirect to the app's host). A hint we did not sign, an unregistered return address or a
//! hint for another client is refused on a page, session kept.

use poem::http::{HeaderValue, StatusCode};
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::accounts::model::Account;
use crate::crypto::{is_key, token_hash};
use crate::http::pages::{esc, page_in};
use crate::i18n::{Lang, Locale};
use crate::oidc::authorize::with_query;
use crate::oidc::claims::subject;
use crate::oidc::model::{self, Client};
use crate::oidc::{issuer, keys};
use crate::sessions::service::{clear_cookie, presented_token};
use crate::state::AppState;

/// The request's parameters (query for GET, form for POST); `confirm` comes only from our own
/// confirmation form.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    #[serde(default)]
    id_token_hint: Option<String>,
    #[serde(default)]
    post_logout_redirect_uri: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
    /// The languages the app would like the page in (RP-Initiated Logout §2).
    #[serde(default)]
    ui_locales: Option<String>,
}

#[derive(Deserialize)]
struct Hint {
    aud: Value,
    sub: String,
}

/// RP-initiated logout by a link or redirect.
#[handler]
pub async fn get_logout(req: &Request, Query(p): Query<LogoutParams>, state: Data<&AppState>) -> Response {
    logout(&state, req, p, false).await
}

/// RP-initiated logout by a form post: the relying party's own (same rules as GET), or our
/// confirmation form (`confirm`).
#[handler]
pub async fn post_logout(req: &Request, Form(p): Form<LogoutParams>, state: Data<&AppState>) -> Response {
    logout(&state, req, p, true).await
}

fn refused(state: &AppState, lang: &Lang, status: StatusCode, text: &str) -> Response {
    let title = state.catalog.t(lang.locale, "oi-signout-invalid-title");
    page_in(status, lang, &state.settings.product_name, &title, &format!("<p class=\"error\">{}</p>", esc(text)))
}

fn unavailable() -> Response {
    crate::error::json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Please try again later.")
}

/// The confirmation token for the session whose cookie is `session_token`: unknowable to
/// another site (the cookie is HttpOnly), and different for every session.
fn confirmation(session_token: &str) -> String {
    token_hash(&format!("keyturn-oidc-logout:{session_token}"))
}

fn too_long(p: &LogoutParams) -> bool {
    p.id_token_hint.as_deref().is_some_and(|v| v.len() > 8192)
        || p.post_logout_redirect_uri.as_deref().is_some_and(|v| v.len() > 2048)
        || p.state.as_deref().is_some_and(|v| v.len() > 1024 || v.chars().any(char::is_control))
        || p.client_id.as_deref().is_some_and(|v| v.len() > 128)
        || p.confirm.as_deref().is_some_and(|v| v.len() > 128)
}

async fn logout(state: &AppState, req: &Request, p: LogoutParams, posted: bool) -> Response {
    let asked = p.ui_locales.as_deref().unwrap_or_default().split_whitespace().find_map(Locale::from_tag);
    let lang = asked.map(Lang::fixed).unwrap_or_else(|| Lang::of(req).without_switcher());
    if too_long(&p) {
        return refused(
            state,
            &lang,
            StatusCode::BAD_REQUEST,
            "The sign-out request is too long; you are still signed in.",
        );
    }
    if posted && req.header("origin").is_some_and(|o| o != "null" && Some(o) != our_origin(state).as_deref()) {
        tracing::warn!(event = "authz_fail", reason = "cross_origin", "cross-origin sign-out refused");
        return refused(
            state,
            &lang,
            StatusCode::FORBIDDEN,
            "This request came from another site; you are still signed in.",
        );
    }
    let now = state.clock.now();
    let hint = match p.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => match keys::verify::<Hint>(&state.db, now, h, &issuer(state), None).await {
            Ok(Some(hint)) => Some(hint),
            Ok(None) => {
                tracing::warn!(event = "oidc_logout_bad_hint", "logout with an id_token_hint we did not issue");
                let text = "The sign-out request was not issued by this service; you are still signed in.";
                return refused(state, &lang, StatusCode::BAD_REQUEST, text);
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
        return refused(state, &lang, StatusCode::BAD_REQUEST, "The sign-out request does not match its app.");
    }
    let client = match client_id.filter(|c| is_key(c)) {
        Some(id) => match state.db.read(move |c| Ok(model::find_client(c, &id)?)).await {
            Ok(c) => c,
            Err(_) => return unavailable(),
        },
        None => None,
    };
    let target = match (&client, p.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty())) {
        (Some(c), Some(uri)) if c.post_logout_redirect_uris().iter().any(|u| u == uri) => {
            let pairs: Vec<(&str, &str)> = p.state.as_deref().map(|s| ("state", s)).into_iter().collect();
            Some(with_query(uri, &pairs))
        }
        (_, Some(_)) => {
            let text = "The address to return to is not registered for this app; you are still signed in.";
            return refused(state, &lang, StatusCode::BAD_REQUEST, text);
        }
        _ => None,
    };
    let session = match crate::sessions::service::peek_session(state, req).await {
        Ok(s) => s.map(|(_, a)| a),
        Err(_) => return unavailable(),
    };
    match (&hint, &client) {
        // A valid hint for a known client: the relying party vouches for the request.
        (Some(h), Some(c)) => {
            let same_person = session.as_ref().is_some_and(|a| subject(&a.id) == h.sub);
            if same_person && end_session(state, req, session.as_ref(), Some(c)).await.is_err() {
                return unavailable();
            }
            let resp = match &target {
                Some(t) => Response::builder().status(StatusCode::SEE_OTHER).header("Location", t.as_str()).finish(),
                None => signed_out(state, &lang, None, None),
            };
            with_cleared_cookie(state, resp, same_person)
        }
        // Nothing to end: say so (and offer the way back).
        _ if session.is_none() => signed_out(state, &lang, client.as_ref(), target.as_deref()),
        // Without a hint, only the customer's own click on our form signs them out.
        _ => {
            let Some(token) = presented_token(state, req) else { return signed_out(state, &lang, None, None) };
            let expected = confirmation(&token);
            match p.confirm.as_deref() {
                Some(given) if posted && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) => {
                    if end_session(state, req, session.as_ref(), client.as_ref()).await.is_err() {
                        return unavailable();
                    }
                    let resp = signed_out(state, &lang, client.as_ref(), target.as_deref());
                    with_cleared_cookie(state, resp, true)
                }
                Some(_) => {
                    tracing::warn!(
                        event = "authz_fail",
                        reason = "logout_confirmation",
                        "sign-out confirmation refused"
                    );
                    let text = "This sign-out form is not valid (it expired or came from another site); you are still signed in.";
                    refused(state, &lang, StatusCode::FORBIDDEN, text)
                }
                None => confirm_page(state, &lang, client.as_ref(), &p, target.is_some(), &expected),
            }
        }
    }
}

fn our_origin(state: &AppState) -> Option<String> {
    url::Url::parse(&state.public_url).ok().map(|u| u.origin().ascii_serialization())
}

/// Ends the keyturn session and revokes the account's tokens at `client`.
async fn end_session(
    state: &AppState,
    req: &Request,
    account: Option<&Account>,
    client: Option<&Client>,
) -> Result<(), ()> {
    if let Err(e) = crate::sessions::service::logout(state, req).await {
        tracing::error!(event = "oidc_logout_failed", error = ?e.parts().1.error, "logout failed");
        return Err(());
    }
    if let (Some(a), Some(c)) = (account, client) {
        let (aid, cid, now) = (a.id.to_string(), c.client_id.clone(), state.clock.now());
        let _ = state.db.write(move |conn| Ok(model::revoke_for(conn, &aid, &cid, now)?)).await;
    }
    tracing::info!(
        event = "oidc_logout",
        client_id = client.map(|c| c.client_id.as_str()).unwrap_or("-"),
        "signed out by an app's request"
    );
    Ok(())
}

fn with_cleared_cookie(state: &AppState, mut resp: Response, cleared: bool) -> Response {
    if cleared {
        if let Ok(v) = HeaderValue::from_str(&clear_cookie(state)) {
            resp.headers_mut().append("Set-Cookie", v);
        }
    }
    resp
}

/// "You are signed out", with a link back to the app when its address is registered.
fn signed_out(state: &AppState, lang: &Lang, client: Option<&Client>, target: Option<&str>) -> Response {
    let l = lang.locale;
    let back = match (client, target) {
        (Some(c), Some(t)) => format!(
            "<p><a id=\"return\" class=\"button\" href=\"{}\">{}</a></p>",
            esc(t),
            state.catalog.tr(l, "oi-return-to", &[("app", esc(&c.name).into())])
        ),
        _ => String::new(),
    };
    let body = format!("<p>{}</p>{back}", state.catalog.t(l, "oi-signed-out"));
    page_in(StatusCode::OK, lang, &state.settings.product_name, &state.catalog.t(l, "oi-signed-out-title"), &body)
}

/// The confirmation page: a POST form back here with the session's confirmation token.
fn confirm_page(
    state: &AppState,
    lang: &Lang,
    client: Option<&Client>,
    p: &LogoutParams,
    with_target: bool,
    token: &str,
) -> Response {
    let hidden = |name: &str, value: Option<&str>| match value {
        Some(v) => format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", esc(v)),
        None => String::new(),
    };
    let l = lang.locale;
    let who = client.map(|c| state.catalog.tr(l, "oi-asks", &[("app", esc(&c.name).into())])).unwrap_or_default();
    let fields = [
        hidden("confirm", Some(token)),
        hidden("client_id", client.map(|c| c.client_id.as_str())),
        hidden("post_logout_redirect_uri", p.post_logout_redirect_uri.as_deref().filter(|_| with_target)),
        hidden("state", p.state.as_deref().filter(|_| with_target)),
    ]
    .concat();
    let body = format!(
        "<p>{who} {}</p><form method=\"post\" action=\"/oauth2/logout?lang={code}\">{fields}\
         <button type=\"submit\">{}</button></form><p><a href=\"/cabinet\">{}</a></p>",
        state.catalog.tr(l, "oi-confirm", &[("product", esc(&state.settings.product_name).into())]),
        state.catalog.t(l, "oi-signout-button"),
        state.catalog.t(l, "oi-stay"),
        code = l.code(),
    );
    page_in(StatusCode::OK, lang, &state.settings.product_name, &state.catalog.t(l, "oi-signout-title"), &body)
}
