//! Extractors whose rejections are the API's own problem documents, and the one extractor
//! that yields the authenticated caller.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::ApiError;

/// A JSON body, deserialised with the path of the failing field kept for the client.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(request.headers(), is_json_type) {
            return Err(ApiError::UnsupportedMediaType(
                "The body must be JSON, sent with `Content-Type: application/json`.".into(),
            ));
        }
        let body = read_body(request, state).await?;
        parse_json(&body).map(ApiJson)
    }
}

/// Parses JSON text: a syntax error is `400 malformed_json`, a well-formed document of the
/// wrong shape is `422` naming the field. The syntax is checked over the whole body first,
/// so a truncated document is reported as such even if its start has a wrong type.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let document: serde_json::Value =
        serde_json::from_slice(body).map_err(|err| ApiError::MalformedJson(err.to_string()))?;

    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        ApiError::invalid(failing_field(&path, &message), message)
    })
}

/// The field a deserialisation error is about. serde reports a missing field at the path of
/// the object that lacks it, so its name is taken from the message.
fn failing_field(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (missing, path) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => field_name(path),
    }
}

/// Reads the whole body within the configured limit.
pub async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson("the body could not be read".into())
            }
        })
}

/// Query parameters; one that does not parse is a `422` naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        parse_form(query.as_bytes()).map(ApiQuery)
    }
}

/// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
pub fn parse_form<T: DeserializeOwned>(text: &[u8]) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(text));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let field = field_name(&err.path().to_string());
        ApiError::invalid(field, err.into_inner().to_string())
    })
}

/// Path parameters; one that does not parse (an id that is not a 64-bit integer) is a `422`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rejection = match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => return Ok(ApiPath(value)),
            Err(rejection) => rejection,
        };

        let names: Vec<String> = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params.iter().map(|(name, _)| name.to_owned()).collect(),
            Err(_) => Vec::new(),
        };
        let field = match (&rejection, names.as_slice()) {
            (PathRejection::FailedToDeserializePathParams(err), _) => match err.kind() {
                ErrorKind::ParseErrorAtKey { key, .. }
                | ErrorKind::InvalidUtf8InPathParam { key } => key.clone(),
                _ if names.len() == 1 => names[0].clone(),
                _ => "path".to_owned(),
            },
            (_, [only]) => only.clone(),
            _ => "path".to_owned(),
        };
        Err(ApiError::invalid(field, rejection.body_text()))
    }
}

/// The caller of an authenticated route, loaded fresh from the database for this request.
pub struct CurrentUser(pub entity::user::Model);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?;
        let subject = state.tokens.verify(token)?;
        let user = service::users::authenticate(&state.db, subject).await?;

        tracing::Span::current().record("user_id", user.id);
        Ok(CurrentUser(user))
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::Unauthorized { token_sent: false });
    };
    let refused = ApiError::Unauthorized { token_sent: true };
    let value = value.to_str().map_err(|_| refused)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::Unauthorized { token_sent: true }),
    }
}

/// Whether the request declares a body type accepted by `accepts`.
pub fn has_content_type(headers: &HeaderMap, accepts: fn(&str) -> bool) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| accepts(&essence))
}

/// `application/json` or any `application/*+json`.
pub fn is_json_type(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn is_form_type(essence: &str) -> bool {
    essence == "application/x-www-form-urlencoded"
}

/// serde's path to the failing field, as a client names it (`.` means the whole body).
fn field_name(path: &str) -> String {
    if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}
