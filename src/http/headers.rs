//! Security headers on every response; `no-store` on everything that is not a static asset.

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// Adds the security headers.
pub struct SecurityHeaders {
    pub hsts: bool,
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint { inner, hsts: self.hsts }
    }
}

/// The endpoint produced by [`SecurityHeaders`].
pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    hsts: bool,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let is_docs = req.uri().path().starts_with("/docs");
        let mut resp = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => crate::error::to_json_response(e),
        };
        let h = resp.headers_mut();
        h.insert("X-Content-Type-Options", HeaderValue::from_static("nosniff"));
        h.insert("Referrer-Policy", HeaderValue::from_static("no-referrer"));
        if !is_docs {
            h.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
        }
        if !h.contains_key("Cache-Control") {
            h.insert("Cache-Control", HeaderValue::from_static("no-store"));
        }
        if self.hsts {
            h.insert("Strict-Transport-Security", HeaderValue::from_static("max-age=31536000; includeSubDomains"));
        }
        Ok(resp)
    }
}
