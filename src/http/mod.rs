//! THE route table, the middleware order, and the cross-cutting HTTP pieces.

pub mod acme;
pub mod api_error;
pub mod body;
pub mod captcha;
pub mod client_ip;
pub mod cookies;
pub mod headers;
pub mod limits;
pub mod openapi;
pub mod outcomes;
pub mod pages;
pub mod server;
pub mod strict;
pub mod tls;

use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{get, handler, post, Endpoint, EndpointExt, IntoResponse, Response, Route};
use poem_openapi::OpenApiService;

use crate::access::api::AccessApi;
use crate::access::forward::get_auth_verify;
use crate::accounts::api::AccountsApi;
use crate::accounts::pages::{
    get_cabinet_page, get_cabinet_script, get_verify_page, post_resend_page, post_verify_page,
};
use crate::admin::pages::{
    get_admin_accesses_script, get_admin_accounts_script, get_admin_keys_script, get_admin_manage_script,
    get_admin_oidc_script, get_admin_page, get_admin_sales_script, get_admin_script, get_admin_webhooks_script,
};
use crate::admin::AdminApi;
use crate::catalog::api::CatalogApi;
use crate::invoices::pages::{get_invoice_page, post_invoice_page};
use crate::oidc::authorize::{get_authorize, post_authorize};
use crate::oidc::endpoints::{get_discovery, get_jwks, get_userinfo};
use crate::oidc::logout::{get_logout, post_logout};
use crate::oidc::token::post_token;
use crate::orders::api::OrdersApi;
use crate::orders::form::post_order_form;
use crate::password_reset::api::PasswordResetApi;
use crate::password_reset::pages::{get_forgot_page, get_reset_page, post_forgot_page, post_reset_page};
use crate::payments::api::{post_callback, post_sandbox_callback};
use crate::payments::gateways::paypal::start::get_paypal_return;
use crate::payments::pages::{get_pay_page, get_return_page, get_start_payment};
use crate::renewals::api::RenewalsApi;
use crate::renewals::pages::{get_renew_page, post_renew_page};
use crate::sandbox::pages::{get_challenge, get_checkout, post_challenge, post_checkout};
use crate::sessions::api::SessionApi;
use crate::state::AppState;
use crate::storefront;

/// Every JSON API under `/api/v1`.
pub type Apis = (CatalogApi, OrdersApi, SessionApi, AccountsApi, PasswordResetApi, RenewalsApi, AccessApi, AdminApi);

/// The OpenAPI service for `/api/v1` (also used to print the document).
pub fn api_service(public_url: &str) -> OpenApiService<Apis, ()> {
    let apis =
        (CatalogApi, OrdersApi, SessionApi, AccountsApi, PasswordResetApi, RenewalsApi, AccessApi, crate::admin::api());
    OpenApiService::new(apis, "keyturn", env!("CARGO_PKG_VERSION"))
        .description("Turns a verified payment into a working customer account. Errors are `{\"error\": CODE, \"message\": TEXT}`.")
        .server(format!("{public_url}/api/v1"))
}

#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    if state.db.ping().await {
        Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        crate::error::json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The database does not answer.")
    }
}

/// Every route of the service, with its middleware.
/// The plain-HTTP listener next to HTTPS (`http_listen`): every request is sent to the same path
/// on the https public URL, permanently (308 keeps a POST a POST).
pub fn https_redirect(public_url: std::sync::Arc<str>) -> impl Endpoint {
    poem::endpoint::make_sync(move |req: poem::Request| {
        let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let status = if matches!(*req.method(), poem::http::Method::GET | poem::http::Method::HEAD) {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::PERMANENT_REDIRECT
        };
        Response::builder().status(status).header(poem::http::header::LOCATION, format!("{public_url}{path}")).finish()
    })
    .with(headers::SecurityHeaders { hsts: false })
}

/// The metrics listener (`metrics_listen`): `GET /metrics` only.
pub fn metrics(state: AppState) -> impl Endpoint {
    Route::new()
        .at(
            "/metrics",
            get(poem::endpoint::make(|req: poem::Request| async move {
                let state = req.data::<AppState>().cloned();
                match state {
                    Some(state) => Response::builder()
                        .content_type(crate::metrics::CONTENT_TYPE)
                        .body(crate::metrics::Metrics::scrape(&state).await),
                    None => Response::builder().status(StatusCode::INTERNAL_SERVER_ERROR).finish(),
                }
            })),
        )
        .data(state)
}

pub fn routes(state: AppState) -> impl Endpoint {
    let api = api_service(&state.public_url);
    let doc = openapi::document(&api.spec());
    let doc_for_names = doc.clone();
    let allow = openapi::AllowOn405(openapi::AllowTable::from_document(&doc, "/api/v1"));
    let spec = poem::endpoint::make_sync(move |_| {
        Response::builder().content_type("application/json; charset=utf-8").body(doc.clone())
    });
    let docs = api.swagger_ui();
    let mut table = Table::default()
        .at("/", get(storefront::buy::index))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/api/v1/openapi.json", get(spec))
        .at("/api/v1/payments/:gateway/callback", post(post_callback))
        .at("/api/v1/payments/sandbox/:gateway/callback", post(post_sandbox_callback))
        .nest("/api/v1", api, "/api/v1/*")
        .nest("/docs", docs, "/docs/*")
        .at("/forms/order", post(post_order_form))
        .at("/buy/:slug", get(storefront::buy::get_buy_page).post(storefront::buy::post_buy_page))
        .at("/embed.js", get(storefront::embed::get_embed_script))
        .at("/assets/back.js", get(storefront::embed::get_back_script))
        .at("/forms/tilda", post(storefront::tilda::post_tilda_webhook))
        .at("/forms/tilda/continue", get(storefront::tilda::get_tilda_continue))
        .at("/pay/:order_id", get(get_pay_page))
        .at("/pay/:order_id/paypal/return", get(get_paypal_return))
        .at("/pay/:order_id/:gateway", get(get_start_payment))
        .at("/orders/:order_id/return", get(get_return_page))
        .at("/invoice/:invoice_id", get(get_invoice_page).post(post_invoice_page))
        .at("/renew/:token", get(get_renew_page).post(post_renew_page))
        .at("/verify-email", get(get_verify_page).post(post_verify_page))
        .at("/verify-email/resend", post(post_resend_page))
        .at("/cabinet", get(get_cabinet_page))
        .at("/forgot-password", get(get_forgot_page).post(post_forgot_page))
        .at("/reset-password", get(get_reset_page).post(post_reset_page))
        .at("/auth/verify", get(get_auth_verify))
        .at("/.well-known/openid-configuration", get(get_discovery))
        .at("/oauth2/authorize", get(get_authorize).post(post_authorize))
        .at("/oauth2/token", post(post_token))
        .at("/oauth2/userinfo", get(get_userinfo).post(get_userinfo))
        .at("/oauth2/jwks", get(get_jwks))
        .at("/oauth2/logout", get(get_logout).post(post_logout))
        .at("/assets/cabinet.js", get(get_cabinet_script))
        .at("/admin", get(get_admin_page))
        .at("/assets/admin.js", get(get_admin_script))
        .at("/assets/admin-accounts.js", get(get_admin_accounts_script))
        .at("/assets/admin-manage.js", get(get_admin_manage_script))
        .at("/assets/admin-webhooks.js", get(get_admin_webhooks_script))
        .at("/assets/admin-keys.js", get(get_admin_keys_script))
        .at("/assets/admin-oidc.js", get(get_admin_oidc_script))
        .at("/assets/admin-accesses.js", get(get_admin_accesses_script))
        .at("/assets/admin-sales.js", get(get_admin_sales_script));
    if state.settings.sandbox_enabled {
        table = table
            .at("/sandbox/checkout/:order_id", get(get_checkout).post(post_checkout))
            .at("/sandbox/3ds/:payment_id", get(get_challenge).post(post_challenge));
    }
    let mut names = std::mem::take(&mut table.names);
    names.add_document(&doc_for_names, "/api/v1");
    let (names, metrics) = (std::sync::Arc::new(names), state.metrics.clone());
    let route = table.route;
    let hsts = state.settings.is_https();
    let max = state.settings.max_body_bytes;
    route
        .around(move |ep, req| async move {
            // A visitor's `?lang=` choice of a page is remembered for the next pages (DESIGN §8);
            // a form's answer only speaks its page's language.
            let chosen = crate::i18n::request::asked_in_query(&req).filter(|_| req.method() == poem::http::Method::GET);
            let mut resp = ep.call(req).await?.into_response();
            if let Some(l) = chosen {
                let cookie = format!(
                    "{}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
                    crate::i18n::request::LANG_COOKIE,
                    l.code(),
                    if hsts { "; Secure" } else { "" }
                );
                if let Ok(v) = poem::http::HeaderValue::from_str(&cookie) {
                    resp.headers_mut().append(poem::http::header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        })
        .with(allow)
        .with(body::BodyLimit { max, timeout: Duration::from_secs(30) })
        .data(state)
        .with(headers::SecurityHeaders { hsts })
        .around(move |ep, req| {
            let (names, metrics) = (names.clone(), metrics.clone());
            async move {
                let (route, method, began) =
                    (names.label(req.uri().path()).to_string(), req.method().clone(), Instant::now());
                let answer = ep.call(req).await;
                let status = match &answer {
                    Ok(r) => r.status(),
                    Err(e) => e.status(),
                };
                metrics.request(&route, method.as_str(), status.as_u16(), began.elapsed());
                answer
            }
        })
}

/// The route table being built: poem's `Route` plus every template it was given, so request
/// metrics are labelled by template (`/pay/:order_id`), never by path.
#[derive(Default)]
struct Table {
    route: Route,
    names: crate::metrics::RouteNames,
}

impl Table {
    fn at<E>(mut self, path: &'static str, ep: E) -> Self
    where
        E: poem::IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.route = self.route.at(path, ep);
        self.names.add(path);
        self
    }

    /// A nested service; `names` is its label (`/docs/*`: everything under it). The API's own
    /// templates are read from its document.
    fn nest<E>(mut self, path: &'static str, ep: E, name: &'static str) -> Self
    where
        E: poem::IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.route = self.route.nest(path, ep);
        self.names.add(name);
        self
    }
}
