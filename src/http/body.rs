//! Request bodies are read whole, with a size cap and a time limit, before any handler runs:
//! a 3 MB body gets 413 and a slow drip gets 408, whatever the route. An oversized body is
//! read and thrown away (up to a bound) before the 413 goes out with `Connection: close`, so a
//! client that writes its whole upload before reading (urllib, curl, browsers) reads the
//! answer instead of a connection reset.

use std::time::Duration;

use futures_util::StreamExt;
use poem::http::StatusCode;
use poem::{Endpoint, Middleware, Request, Response};

use crate::error::json_error;

/// The most of an oversized body that is read and discarded so its sender can read the 413;
/// a larger declared body gets the 413 at once (and its sender may see a reset).
const DRAIN_MAX: u64 = 16 * 1024 * 1024;
/// How long discarding an oversized body may take.
const DRAIN_TIME: Duration = Duration::from_secs(10);

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
        let mut resp = json_error(self.status(), code, &self.to_string());
        if matches!(self, BodyError::TooLarge(_)) {
            // The rest of the body was not read: this connection cannot carry another request.
            resp.headers_mut().insert(poem::http::header::CONNECTION, poem::http::HeaderValue::from_static("close"));
        }
        resp
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
        let mut stream = req.take_body().into_bytes_stream();
        if declared.is_some_and(|len| len > self.max as u64) {
            // A client waiting for `100 Continue` has sent nothing yet: it gets the 413 at once.
            let waits = req
                .headers()
                .get(poem::http::header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            if !waits && declared.is_some_and(|len| len <= DRAIN_MAX) {
                discard(&mut stream, 0).await;
            }
            return Err(BodyError::TooLarge(self.max).into());
        }
        let max = self.max;
        let read = async {
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
        let read = tokio::time::timeout(self.timeout, read).await.map_err(|_| BodyError::Timeout)?;
        let bytes = match read {
            Err(BodyError::TooLarge(max)) => {
                discard(&mut stream, max as u64).await;
                return Err(BodyError::TooLarge(max).into());
            }
            other => other?,
        };
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

/// Reads and drops what is left of a body, up to [`DRAIN_MAX`] bytes in all and [`DRAIN_TIME`].
async fn discard<S, B, E>(stream: &mut S, already: u64)
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let drain = async {
        let mut seen = already;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.as_ref().len() as u64;
            if seen > DRAIN_MAX {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
}
