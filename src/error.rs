//! The one API error type. Every failure leaves the server as
//! `application/problem+json` with a stable machine-readable `code`.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_id::current_request_id;

pub type ApiResult<T> = Result<T, ApiError>;

/// Per-field messages, e.g. `{"email": ["must be a valid email address"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad query string).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// 401: no credentials, or credentials that are not valid.
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    /// 402: the account must pay before it may do this (suspended, canceled).
    #[error("{detail}")]
    PaymentRequired { code: &'static str, detail: String },
    /// 403: authenticated, but the role or scope does not allow this.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// 404: no such resource for this caller (also another tenant's).
    #[error("not found")]
    NotFound,
    /// 409: the request conflicts with the current state (duplicate slug, ...).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 413: the body is larger than the stated limit.
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: the body is well-formed but its values are not acceptable.
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        errors: FieldErrors,
    },
    /// 429: too many attempts; try again after `retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests {
        code: &'static str,
        detail: String,
        retry_after: u64,
    },
    /// 503: the server is overloaded (e.g. no database connection came in
    /// time); retry after `retry_after` seconds.
    #[error("{detail}")]
    Unavailable {
        code: &'static str,
        detail: String,
        retry_after: u64,
    },
    /// 500: a failure inside the server; the cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code, e.g. `duplicate_slug`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field messages for 422 answers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: FieldErrors,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            detail: detail.into(),
        }
    }
    pub fn payment_required(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::PaymentRequired {
            code,
            detail: detail.into(),
        }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            detail: detail.into(),
        }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }
    /// A 422 about one field.
    pub fn field(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut errors = FieldErrors::new();
        errors.insert(field.to_string(), vec![message.clone()]);
        ApiError::Unprocessable {
            code,
            detail: message,
            errors,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::PaymentRequired { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::TooManyRequests { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::NotFound => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let (detail, errors) = match self {
            ApiError::Internal(_) => (None, FieldErrors::new()),
            ApiError::Unprocessable { detail, errors, .. } => (Some(detail.clone()), errors.clone()),
            ApiError::PayloadTooLarge { limit } => (
                Some(format!("the body may be at most {limit} bytes")),
                FieldErrors::new(),
            ),
            other => (Some(other.to_string()), FieldErrors::new()),
        };
        Problem {
            type_: format!("https://livemall.dev/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: self.code().to_string(),
            detail,
            errors,
            request_id: current_request_id(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let ApiError::Unauthorized { .. } = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::TooManyRequests { retry_after, .. } | ApiError::Unavailable { retry_after, .. } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = FieldErrors::new();
        collect_field_errors("", &errors, &mut fields);
        ApiError::Unprocessable {
            code: "validation_failed",
            detail: "some fields are not valid".into(),
            errors: fields,
        }
    }
}

fn collect_field_errors(prefix: &str, errors: &validator::ValidationErrors, out: &mut FieldErrors) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let messages = list.iter().map(|e| match &e.message {
                    Some(m) => m.to_string(),
                    None => format!("is not valid ({})", e.code),
                });
                out.entry(name).or_default().extend(messages);
            }
            ValidationErrorsKind::Struct(inner) => collect_field_errors(&name, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_field_errors(&format!("{name}[{index}]"), inner, out);
                }
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if let sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) = err {
            tracing::warn!("no database connection came in time");
            return ApiError::Unavailable {
                code: "overloaded",
                detail: "the server is busy; try again shortly".into(),
                retry_after: 1,
            };
        }
        ApiError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}
