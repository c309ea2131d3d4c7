//! Server-rendered HTML pages: one layout, strict CSP, everything escaped.

use poem::http::StatusCode;
use poem::Response;

use crate::i18n::{Lang, Locale};
use crate::state::AppState;

/// Escapes text for HTML bodies and attributes.
pub fn esc(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

const STYLE: &str = "body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1f2328;margin:0;padding:24px}\
main{max-width:520px;margin:0 auto;background:#fff;border-radius:8px;padding:24px}\
h1{font-size:22px;margin-top:0}label{display:block;margin:12px 0 4px}\
input{width:100%;box-sizing:border-box;padding:10px;font-size:16px;border:1px solid #d0d7de;border-radius:6px}\
button,.button{display:inline-block;margin-top:16px;padding:12px 20px;font-size:16px;border:0;border-radius:6px;background:#1f6feb;color:#fff;text-decoration:none;cursor:pointer}\
.muted{color:#6a737d;font-size:14px}.error{color:#cf222e}.ok{color:#1a7f37}.lang{margin-top:24px}code{background:#f6f8fa;padding:2px 4px}\
main{overflow-wrap:anywhere}@media(max-width:480px){body{padding:8px}main{padding:16px}}";

/// A full page with the shared layout, in English (the admin portal).
pub fn page(status: StatusCode, product: &str, title: &str, body_html: &str) -> Response {
    page_with_head(status, product, title, "", body_html)
}

/// A page with extra `<head>` content (e.g. a refresh while a payment is confirmed), in English.
pub fn page_with_head(status: StatusCode, product: &str, title: &str, head: &str, body_html: &str) -> Response {
    render(status, Locale::En, "", product, title, head, body_html)
}

/// A customer page in `lang`'s locale, with its language switcher.
pub fn page_in(status: StatusCode, lang: &Lang, product: &str, title: &str, body_html: &str) -> Response {
    page_with_head_in(status, lang, product, title, "", body_html)
}

/// [`page_in`] with extra `<head>` content.
pub fn page_with_head_in(
    status: StatusCode,
    lang: &Lang,
    product: &str,
    title: &str,
    head: &str,
    body_html: &str,
) -> Response {
    render(status, lang.locale, &lang.switcher(), product, title, head, body_html)
}

fn render(
    status: StatusCode,
    locale: Locale,
    switcher: &str,
    product: &str,
    title: &str,
    head: &str,
    body_html: &str,
) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{l}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} · {p}</title><style>{STYLE}</style>{head}</head>\
         <body><main><p class=\"muted\">{p}</p><h1>{t}</h1>{body_html}{switcher}</main></body></html>",
        l = locale.code(),
        t = esc(title),
        p = esc(product),
    );
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("Content-Language", locale.code())
        .body(html)
}

/// The CSP of a page driven by one of our own scripts (the cabinet, the admin portal): only our
/// scripts and our own API, no inline code, no other origin.
pub const SCRIPTED_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `resp` with [`SCRIPTED_CSP`] instead of the script-free default.
pub fn scripted(mut resp: Response) -> Response {
    resp.headers_mut().insert("Content-Security-Policy", poem::http::HeaderValue::from_static(SCRIPTED_CSP));
    resp
}

/// The CSP of a page whose only script is our own `back.js`.
const BACK_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An API error as a page says it in `l`: its status and the catalogue's words for its code
/// (the API's English message when the catalogue has none).
pub fn said(state: &AppState, l: Locale, e: &crate::http::api_error::ApiError) -> (StatusCode, String) {
    let (status, body) = e.parts();
    (status, state.catalog.error(l, &body.error, &body.message))
}

/// An error page for browser-facing routes, in the visitor's locale. "Go back" leads home by
/// itself and back through the history with our external `back.js` (inline code would be
/// blocked by the CSP).
pub fn error_page_in(status: StatusCode, state: &AppState, lang: &Lang, message: &str) -> Response {
    let l = lang.locale;
    let mut resp = page_in(
        status,
        lang,
        &state.settings.product_name,
        &state.catalog.t(l, "error-title"),
        &format!(
            "<p class=\"error\">{}</p><p><a href=\"/\" data-back>{}</a></p><script src=\"/assets/back.js\"></script>",
            esc(message),
            esc(&state.catalog.t(l, "go-back"))
        ),
    );
    resp.headers_mut().insert("Content-Security-Policy", poem::http::HeaderValue::from_static(BACK_CSP));
    resp
}

/// An error page for browser-facing routes. "Go back" leads home by itself and back through the
/// history with our external `back.js` (inline code would be blocked by the CSP).
pub fn error_page(status: StatusCode, product: &str, message: &str) -> Response {
    let mut resp = page(
        status,
        product,
        "Something is not right",
        &format!(
            "<p class=\"error\">{}</p><p><a href=\"/\" data-back>Go back</a></p><script src=\"/assets/back.js\"></script>",
            esc(message)
        ),
    );
    resp.headers_mut().insert("Content-Security-Policy", poem::http::HeaderValue::from_static(BACK_CSP));
    resp
}
