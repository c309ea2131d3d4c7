//! The error outcomes an API operation can answer with, documented in the OpenAPI document.

use poem::http::StatusCode;
use poem::IntoResponse;
use poem_openapi::payload::Json;
use poem_openapi::ApiResponse;

use crate::db::DbError;
use crate::error::{err, AppError, ErrorBody};

/// Every expected error answer of the JSON API: status + `{error, message}`.
#[derive(ApiResponse, Debug, Clone)]
pub enum ApiError {
    /// Malformed input, an invalid token or a missing captcha.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid session, or wrong credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Authenticated but not allowed (unverified email, temporary password, captcha failed).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such object.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The object is not in a state that allows this (e.g. token already used).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The object existed but has expired.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// Well-formed input that breaks a rule (validation, weak password, unknown service).
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests; retry after the given seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Unexpected failure on our side.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A payment gateway could not be reached or answered nonsense; nothing is known to have
    /// happened there: retry (with the same Idempotency-Key).
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// A dependency is down or the server is saturated; retry after the given seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

impl ApiError {
    pub fn bad_request(code: &str, msg: impl Into<String>) -> Self {
        ApiError::BadRequest(err(code, msg))
    }
    pub fn unauthorized(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Unauthorized(err(code, msg))
    }
    pub fn forbidden(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Forbidden(err(code, msg))
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(err("not_found", msg))
    }
    pub fn conflict(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Conflict(err(code, msg))
    }
    pub fn gone(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Gone(err(code, msg))
    }
    pub fn unprocessable(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Unprocessable(err(code, msg))
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        ApiError::TooManyRequests(err("rate_limited", "Too many requests; please slow down."), retry_after)
    }
    pub fn unavailable(code: &str, msg: impl Into<String>) -> Self {
        ApiError::Unavailable(err(code, msg), 5)
    }

    /// An answer rebuilt from a stored status and body (Idempotency-Key replays).
    pub fn from_parts(status: u16, body: ErrorBody) -> Self {
        let b = Json(body);
        match status {
            400 => ApiError::BadRequest(b),
            401 => ApiError::Unauthorized(b),
            403 => ApiError::Forbidden(b),
            404 => ApiError::NotFound(b),
            409 => ApiError::Conflict(b),
            410 => ApiError::Gone(b),
            422 => ApiError::Unprocessable(b),
            429 => ApiError::TooManyRequests(b, 1),
            502 => ApiError::BadGateway(b),
            503 => ApiError::Unavailable(b, 5),
            _ => ApiError::Internal(b),
        }
    }

    /// The status and body, for callers that render HTML instead of JSON.
    pub fn parts(&self) -> (StatusCode, &ErrorBody) {
        match self {
            ApiError::BadRequest(b) => (StatusCode::BAD_REQUEST, &b.0),
            ApiError::Unauthorized(b) => (StatusCode::UNAUTHORIZED, &b.0),
            ApiError::Forbidden(b) => (StatusCode::FORBIDDEN, &b.0),
            ApiError::NotFound(b) => (StatusCode::NOT_FOUND, &b.0),
            ApiError::Conflict(b) => (StatusCode::CONFLICT, &b.0),
            ApiError::Gone(b) => (StatusCode::GONE, &b.0),
            ApiError::Unprocessable(b) => (StatusCode::UNPROCESSABLE_ENTITY, &b.0),
            ApiError::TooManyRequests(b, _) => (StatusCode::TOO_MANY_REQUESTS, &b.0),
            ApiError::Internal(b) => (StatusCode::INTERNAL_SERVER_ERROR, &b.0),
            ApiError::BadGateway(b) => (StatusCode::BAD_GATEWAY, &b.0),
            ApiError::Unavailable(b, _) => (StatusCode::SERVICE_UNAVAILABLE, &b.0),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unavailable(detail) => {
                tracing::warn!(event = "db_unavailable", detail = %detail, "dependency unavailable");
                ApiError::unavailable("unavailable", "The service is temporarily unavailable; please retry shortly.")
            }
            AppError::Internal(detail) => {
                tracing::error!(event = "internal_error", detail = %detail, "unexpected failure");
                ApiError::Internal(err("internal_error", "Something went wrong on our side."))
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        AppError::from(e).into()
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.parts().0
    }

    fn as_response(&self) -> poem::Response {
        self.clone().into_response()
    }
}
