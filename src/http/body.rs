//! Request bodies are read whole, with a size cap and a time limit, before any handler runs:
//! a 3 MB body gets 413 and a slow drip gets 408, whatever the route.

use std::time::Duration;

use futures_util::StreamExt;
use poem::http::StatusCode;
use poem::{Endpoint, Middleware, Request, Response};

use crate::error::json_error;

/// Why a body was refused before reaching a handler.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request body was not received in time")]
    Timeout,
    #[error("the request body could not be read")]
    Read,
}

impl poem::error::ResponseError for BodyError {
    fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Timeout => StatusCode::REQUEST_TIMEOUT,
            BodyError::Read => StatusCode::BAD_REQUEST,
        }
    }

    fn as_response(&self) -> Response {
        let code = match self {
            BodyError::TooLarge(_) => "payload_too_large",
            BodyError::Timeout => "request_timeout",
            BodyError::Read => "invalid_body",
        };
        json_error(self.status(), code, &self.to_string())
    }
}

/// Caps and buffers request bodies.
pub struct BodyLimit {
    pub max: usize,
    pub timeout: Duration,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint { inner, max: self.max, timeout: self.timeout }
    }
}

/// The endpoint produced by [`BodyLimit`].
pub struct BodyLimitEndpoint<E> {
    inner: E,
    max: usize,
    timeout: Duration,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max as u64) {
            return Err(BodyError::TooLarge(self.max).into());
        }
        let mut stream = req.take_body().into_bytes_stream();
        let max = self.max;
        let read = async move {
            let mut buf = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|_| BodyError::Read)?;
                if buf.len() + chunk.len() > max {
                    return Err(BodyError::TooLarge(max));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(buf)
        };
        let bytes = tokio::time::timeout(self.timeout, read).await.map_err(|_| BodyError::Timeout)??;
        // Admin actions whose JSON body is optional (capture, cancel, refund everything) may be
        // posted with no body at all: that is an empty JSON body, not a missing media type.
        if bytes.is_empty()
            && req.method() == poem::http::Method::POST
            && req.uri().path().starts_with("/api/v1/admin/")
            && !req.headers().contains_key(poem::http::header::CONTENT_TYPE)
        {
            req.headers_mut().insert(poem::http::header::CONTENT_TYPE, "application/json".parse().unwrap());
        }
        req.set_body(bytes);
        self.inner.call(req).await
    }
}
