//! Every error answer of the API: one enum, one mapping from service errors, and one
//! rendering as an RFC 9457 problem document.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem with one field of the input.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a handler or extractor can answer besides success.
#[derive(Debug)]
pub enum ApiError {
    MalformedJson(String),
    /// No usable bearer token; `token_sent` tells whether one was offered and refused.
    Unauthorized {
        token_sent: bool,
    },
    UserNotFound,
    TokenRevoked,
    InvalidCredentials,
    UserBanned {
        reason: Option<String>,
    },
    Forbidden,
    NotFound,
    MethodNotAllowed,
    EmailTaken,
    InsufficientFunds,
    IdempotencyConflict,
    /// Too many failed logins; the client may try again after this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    PayloadTooLarge,
    UnsupportedMediaType(String),
    Validation(Vec<FieldError>),
    Unavailable,
    Internal,
    /// Any other refusal made below the handlers, kept with its own status.
    Other(StatusCode),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::UserNotFound => (StatusCode::UNAUTHORIZED, "user_not_found"),
            Self::TokenRevoked => (StatusCode::UNAUTHORIZED, "token_revoked"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::UserBanned { .. } => (StatusCode::FORBIDDEN, "user_banned"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            Self::InsufficientFunds => (StatusCode::CONFLICT, "insufficient_funds"),
            Self::IdempotencyConflict => (StatusCode::CONFLICT, "idempotency_conflict"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            Self::Other(status) => (*status, other_code(*status)),
        }
    }

    fn detail(&self) -> String {
        let text = match self {
            Self::MalformedJson(reason) => return format!("The body is not valid JSON: {reason}"),
            Self::UnsupportedMediaType(reason) => return reason.clone(),
            Self::Unauthorized { token_sent: false } => "This route needs a bearer token.",
            Self::Unauthorized { token_sent: true } => {
                "The bearer token is malformed, expired or not valid."
            }
            Self::UserNotFound => "The user this token was issued to no longer exists.",
            Self::TokenRevoked => "This token was revoked; log in again.",
            Self::InvalidCredentials => "The email or the password is wrong.",
            Self::UserBanned { .. } => "This account is banned.",
            Self::Forbidden => "You do not have the right to do this.",
            Self::NotFound => "There is no such resource.",
            Self::MethodNotAllowed => "This route does not accept this method.",
            Self::EmailTaken => "An account with this email address exists already.",
            Self::InsufficientFunds => "The balance in this currency is too small.",
            Self::RateLimited { .. } => "Too many failed logins for this address; wait a while.",
            Self::IdempotencyConflict => {
                "This Idempotency-Key was already used for a different request."
            }
            Self::PayloadTooLarge => "The request body is larger than this server accepts.",
            Self::Validation(_) => "The request has invalid input; see `errors`.",
            Self::Unavailable => "The database is unavailable; try again shortly.",
            Self::Internal => "Something went wrong on our side.",
            Self::Other(_) => "The request was refused.",
        };
        text.to_owned()
    }

    /// What `WWW-Authenticate` says for a 401.
    fn challenge(&self) -> Option<&'static str> {
        match self {
            Self::Unauthorized { token_sent: true } | Self::UserNotFound | Self::TokenRevoked => {
                Some("Bearer error=\"invalid_token\"")
            }
            Self::Unauthorized { token_sent: false } | Self::InvalidCredentials => Some("Bearer"),
            _ => None,
        }
    }
}

impl From<service::Error> for ApiError {
    fn from(err: service::Error) -> Self {
        use service::Error as E;
        match err {
            E::NotFound => Self::NotFound,
            E::EmailTaken => Self::EmailTaken,
            E::InvalidCredentials => Self::InvalidCredentials,
            E::InvalidToken => Self::Unauthorized { token_sent: true },
            E::UserNotFound => Self::UserNotFound,
            E::TokenRevoked => Self::TokenRevoked,
            E::UserBanned { reason } => Self::UserBanned { reason },
            E::Forbidden => Self::Forbidden,
            E::InsufficientFunds => Self::InsufficientFunds,
            E::IdempotencyConflict => Self::IdempotencyConflict,
            E::RateLimited { retry_after } => Self::RateLimited {
                // Whole seconds, rounded up, so a client waiting that long is let in.
                retry_after_secs: retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
            },
            E::Invalid { field, message } => Self::invalid(field, message),
            E::Unavailable(cause) => {
                tracing::warn!(error = %causes(&cause), "database unavailable");
                Self::Unavailable
            }
            E::Internal(cause) => {
                tracing::error!(error = %causes(&*cause), "internal error");
                Self::Internal
            }
        }
    }
}

/// The error and its sources as one line, from their `Display` only: a driver's `Debug`
/// can carry the row that failed a constraint, and with it a password hash.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// An RFC 9457 problem document, as every error answer carries it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` tells the kinds of problem apart.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: &'static str,
    /// The HTTP status's reason phrase.
    #[schema(example = "Conflict")]
    pub title: &'static str,
    #[schema(example = 409)]
    pub status: u16,
    /// For a person to read.
    pub detail: String,
    /// A stable machine code, e.g. `insufficient_funds`.
    #[schema(example = "insufficient_funds")]
    pub code: &'static str,
    /// With `validation_error`: each problem found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// With `user_banned`: the reason given for the ban, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ban_reason: Option<Option<String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let problem = Problem {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors: None,
            ban_reason: None,
        };
        let challenge = self.challenge();
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let problem = match self {
            Self::Validation(errors) => Problem {
                errors: Some(errors),
                ..problem
            },
            Self::UserBanned { reason } => Problem {
                ban_reason: Some(reason),
                ..problem
            },
            _ => problem,
        };

        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(challenge) = challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Codes for the statuses that only the framework or a layer answers with.
fn other_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "request_header_fields_too_large",
        status if status.is_server_error() => "internal",
        _ => "http_error",
    }
}

/// The answer for a route that does not exist.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound
}

/// Turns any error answer that is not a problem document yet (the framework's own 405, a
/// rejection from a layer) into one, keeping its status and headers such as `Allow`.
pub async fn problem_for_bare_errors(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }

    let replacement = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("The body must be JSON.".into())
        }
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized { token_sent: false },
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable,
        StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal,
        status => ApiError::Other(status),
    };
    let (mut parts, _) = response.into_parts();
    let fresh = replacement.into_response();
    parts.status = fresh.status();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    for (name, value) in fresh.headers() {
        parts.headers.insert(name, value.clone());
    }
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, body)
}

/// The answer when a handler panicked: a plain 500 problem; the panic itself is logged.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    ApiError::Internal.into_response()
}
