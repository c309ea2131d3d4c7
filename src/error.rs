//! The one JSON error body, and the mapping of unexpected failures and framework parse
//! errors to it. Expected outcomes are response-enum variants in each feature's `api.rs`.

use poem::http::StatusCode;
use poem::Response;
use poem_openapi::payload::Json;
use poem_openapi::Object;

use crate::db::DbError;

/// Every error answer: a stable snake_case code and a sentence for humans.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `token_used`.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
}

/// Builds the JSON error payload used by every response enum.
pub fn err(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody { error: code.to_string(), message: message.into() })
}

/// An unexpected failure, or the database being down. Answered with a generic body.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("service temporarily unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(m) => AppError::Unavailable(m),
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection
                | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                info,
            )) => AppError::Unavailable(info.message().to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(format!("{e:#}"))
    }
}

/// A JSON error response with the given status.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::to_vec(&ErrorBody { error: code.into(), message: message.into() }).unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(body)
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        match self {
            AppError::Unavailable(detail) => {
                tracing::warn!(event = "db_unavailable", detail = %detail, "database unavailable");
                let mut r = json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The service is temporarily unavailable; please retry shortly.",
                );
                r.headers_mut().insert("Retry-After", poem::http::HeaderValue::from_static("5"));
                r
            }
            AppError::Internal(detail) => {
                tracing::error!(event = "internal_error", detail = %detail, "unexpected failure");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.")
            }
        }
    }
}

/// Turns any error that reached the top of the router into the JSON error body, so that
/// framework-level failures (bad JSON, wrong content type, unknown route) get stable codes.
pub fn to_json_response(e: poem::Error) -> Response {
    use poem_openapi::error::{ContentTypeError, ParseParamError, ParseRequestPayloadError};
    // Responses our handlers built on purpose (API error enums) pass through unchanged.
    if e.is_from_response() || e.is::<AppError>() || e.is::<crate::http::body::BodyError>() {
        return e.into_response();
    }
    let (status, code, message) = if e.is::<ParseRequestPayloadError>() {
        (StatusCode::BAD_REQUEST, "invalid_body", format!("The request body is not valid: {e}"))
    } else if e.is::<ContentTypeError>() {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", e.to_string())
    } else if e.is::<ParseParamError>() {
        (StatusCode::BAD_REQUEST, "invalid_query", e.to_string())
    } else {
        let status = e.status();
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNAUTHORIZED => "unauthenticated",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            s if s.is_client_error() => "bad_request",
            _ => "internal_error",
        };
        let message = if status.is_server_error() {
            tracing::error!(event = "internal_error", detail = %e, "unhandled error");
            "Something went wrong on our side.".to_string()
        } else {
            e.to_string()
        };
        (status, code, message)
    };
    json_error(status, code, &message)
}
