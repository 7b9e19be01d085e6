//! One error type for the HTTP surface, mapped once to `{"error":{"code","message"}}`.
//!
//! `code` is a stable snake_case string clients may match on; `message` is for people. Internal
//! causes (database, I/O) are logged with their whole chain and never sent to the client: a 5xx
//! says only that something went wrong and which request id to look for.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Stable error codes of the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    InvalidSignature,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    RequestTimeout,
    RequestHeaderFieldsTooLarge,
    Conflict,
    ValidationFailed,
    InsufficientPoints,
    /// A referrer claiming their own referral offer.
    SelfReferral,
    /// A referral offer claimed for an e-mail that has ordered in the shop before.
    ExistingCustomer,
    TooManyRequests,
    PlatformError,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::InvalidJson => StatusCode::BAD_REQUEST,
            Self::InvalidSignature | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RequestHeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Conflict => StatusCode::CONFLICT,
            Self::ValidationFailed
            | Self::InsufficientPoints
            | Self::SelfReferral
            | Self::ExistingCustomer => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::PlatformError => StatusCode::BAD_GATEWAY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code that fits a bare status (used for errors raised by actix itself).
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            409 => Self::Conflict,
            422 => Self::ValidationFailed,
            429 => Self::TooManyRequests,
            431 => Self::RequestHeaderFieldsTooLarge,
            502 => Self::PlatformError,
            503 => Self::Unavailable,
            _ if status.is_client_error() => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The internal cause, logged, never shown.
    #[source]
    pub source: Option<anyhow::Error>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyInner<'a>,
}

#[derive(Serialize)]
struct BodyInner<'a> {
    code: ErrorCode,
    message: &'a str,
}

/// The JSON body every error response carries.
pub fn error_body(code: ErrorCode, message: &str) -> String {
    serde_json::to_string(&Body {
        error: BodyInner { code, message },
    })
    .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"error"}}"#.to_owned())
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }

    /// A failure the client cannot fix; `cause` is logged.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error; the request id in the logs has the details".into(),
            source: Some(cause.into()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.source {
            tracing::error!(code = ?self.code, error = format!("{cause:#}"), "request failed");
        }
        HttpResponse::build(self.status_code())
            .content_type("application/json")
            .body(error_body(self.code, &self.message))
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(q) => q.into(),
            crate::db::DbError::Checkout(_) | crate::db::DbError::Busy => Self {
                code: ErrorCode::Unavailable,
                message: "the database is busy; try again".into(),
                source: Some(e.into()),
            },
            other => Self::internal(other),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::not_found("not found"),
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_one_shape() {
        let body = error_body(ErrorCode::NotFound, "no \"such\" thing");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
        assert_eq!(v["error"]["message"], "no \"such\" thing");
    }

    #[test]
    fn internal_causes_are_not_shown() {
        let e = AppError::internal(anyhow::anyhow!("password=hunter2"));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn statuses_round_trip_through_codes() {
        for code in [
            ErrorCode::NotFound,
            ErrorCode::PayloadTooLarge,
            ErrorCode::Unauthorized,
        ] {
            assert_eq!(ErrorCode::from_status(code.status()), code);
        }
        assert_eq!(
            ErrorCode::from_status(StatusCode::IM_A_TEAPOT),
            ErrorCode::BadRequest
        );
    }
}
