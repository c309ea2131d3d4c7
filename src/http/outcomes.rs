//! Each API operation's own error answers. An operation returns `Result<T, Fail<ItsOutcomes>>`:
//! the runtime value is the shared [`ApiError`] (same statuses, codes and body), while the
//! `ItsOutcomes` type, declared with [`outcomes!`], decides which statuses the OpenAPI document
//! lists for that operation, each with the operation's own description.
//!
//! Answers the framework gives before a handler runs (a broken body, an unsupported media type,
//! a body too large or too slow, a failure on our side) are added by the flags of the
//! declaration, so they are written once.

use std::marker::PhantomData;

use poem::http::StatusCode;
use poem::IntoResponse;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::ApiResponse;

use crate::db::DbError;
use crate::error::AppError;
use crate::http::api_error::ApiError;

/// The statuses one operation can answer besides its success, with what each means there.
pub trait Outcomes: Send + Sync + 'static {
    /// The operation's own error answers: `(status, description)`.
    const OWN: &'static [(u16, &'static str)];
    /// The operation takes a JSON body (adds 400, 408, 413 and 415).
    const JSON_BODY: bool;
}

/// Answers any operation can give: a failure on our side, a dependency down or a saturated server.
const ALWAYS: &[(u16, &str)] = &[
    (500, "Unexpected failure on our side (`internal_error`)."),
    (503, "The database does not answer or the server is saturated (`unavailable`, `server_busy`); retry after `Retry-After` seconds."),
];

/// Answers of every operation with a JSON request body.
const BODY: &[(u16, &str)] = &[
    (400, "The body is not valid JSON of the documented shape, or has an unknown field (`invalid_body`)."),
    (408, "The body did not arrive within 30 seconds (`request_timeout`)."),
    (413, "The body is larger than `max_body_bytes` (`payload_too_large`)."),
    (415, "The body is not `application/json` (`unsupported_media_type`)."),
];

/// Every status `O` documents, its own first (an own description wins over a shared one).
pub fn documented<O: Outcomes>() -> Vec<(u16, &'static str)> {
    let mut all: Vec<(u16, &'static str)> = O::OWN.to_vec();
    let shared = if O::JSON_BODY { BODY } else { &[] };
    for &(status, text) in shared.iter().chain(ALWAYS) {
        if !all.iter().any(|(s, _)| *s == status) {
            all.push((status, text));
        }
    }
    all.sort_by_key(|(s, _)| *s);
    all
}

/// An operation's error answer: an [`ApiError`] documented by `O`.
pub struct Fail<O> {
    error: ApiError,
    outcomes: PhantomData<O>,
}

impl<O: Outcomes> Fail<O> {
    /// The status this answer carries.
    pub fn status(&self) -> StatusCode {
        self.error.parts().0
    }
}

impl<O: Outcomes> From<ApiError> for Fail<O> {
    fn from(error: ApiError) -> Self {
        Fail { error, outcomes: PhantomData }
    }
}

impl<O: Outcomes> From<AppError> for Fail<O> {
    fn from(e: AppError) -> Self {
        ApiError::from(e).into()
    }
}

impl<O: Outcomes> From<DbError> for Fail<O> {
    fn from(e: DbError) -> Self {
        ApiError::from(e).into()
    }
}

impl<O: Outcomes> From<anyhow::Error> for Fail<O> {
    fn from(e: anyhow::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl<O: Outcomes> ApiResponse for Fail<O> {
    fn meta() -> MetaResponses {
        // The shapes (JSON error body, Retry-After on 429 and 503) come from ApiError; a status
        // it does not list (408, 413, 415) takes the plain shape of its 400.
        let shape = |status: u16| {
            let all = ApiError::meta().responses;
            let plain = all.iter().position(|r| r.status == Some(400));
            let at = all.iter().position(|r| r.status == Some(status)).or(plain);
            all.into_iter().nth(at.expect("ApiError documents 400")).expect("position is in range")
        };
        let mut responses = Vec::new();
        for (status, description) in documented::<O>() {
            let mut r = shape(status);
            r.status = Some(status);
            r.description = description;
            responses.push(r);
        }
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

impl<O: Outcomes> IntoResponse for Fail<O> {
    fn into_response(self) -> poem::Response {
        let status = self.status().as_u16();
        if !documented::<O>().iter().any(|(s, _)| *s == status) {
            // A status the document does not list for this operation: a bug in its declaration.
            tracing::error!(
                event = "undocumented_status",
                status,
                outcomes = std::any::type_name::<O>(),
                "answer outside the API document"
            );
            debug_assert!(false, "{} answered {status}, which it does not document", std::any::type_name::<O>());
        }
        self.error.into_response()
    }
}

impl<O: Outcomes> From<Fail<O>> for poem::Error {
    fn from(f: Fail<O>) -> Self {
        poem::Error::from_response(f.into_response())
    }
}

impl<O> std::fmt::Debug for Fail<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// Declares an operation's outcomes:
///
/// ```ignore
/// outcomes! {
///     /// POST /session
///     pub LoginOutcomes(json) {
///         401: "Wrong credentials (`invalid_credentials`).",
///         429: "Too many attempts (`rate_limited`, `too_many_attempts`).",
///     }
/// }
/// ```
///
/// `(json)` marks an operation with a JSON request body, `()` one without.
#[macro_export]
macro_rules! outcomes {
    ($($(#[$doc:meta])* $vis:vis $name:ident ($($json:ident)?) { $($status:literal : $text:expr),* $(,)? })*) => {$(
        $(#[$doc])*
        $vis struct $name;
        impl $crate::http::outcomes::Outcomes for $name {
            const OWN: &'static [(u16, &'static str)] = &[$(($status, $text)),*];
            const JSON_BODY: bool = $crate::outcomes!(@json $($json)?);
        }
    )*};
    (@json json) => { true };
    (@json) => { false };
}
