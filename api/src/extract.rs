//! Extractors whose rejections are the API's own problem documents, and the one extractor
//! that yields the authenticated caller.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use service::admin::Actor;
use service::ledger::IdempotencyKey;

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

/// Parses a JSON body: text that is not well-formed JSON is `400 malformed_json`; a
/// document of the wrong shape is `422` naming the field.
///
/// The whole text is checked before its shape, so a truncated document is reported as such
/// even if its start has a wrong type. Bodies must be objects with no key given twice (the
/// last of two `kind`s silently winning would be a trap in a money API), and no text may
/// hold a NUL character, which PostgreSQL cannot store.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let StrictValue(document) = serde_path_to_error::deserialize(&mut reader).map_err(|err| {
        match err.inner().classify() {
            serde_json::error::Category::Data => deserialize_problem(err),
            _ => ApiError::MalformedJson(err.into_inner().to_string()),
        }
    })?;
    reader
        .end()
        .map_err(|err| ApiError::MalformedJson(err.to_string()))?;
    if !document.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(document).map_err(deserialize_problem)
}

/// A JSON value whose objects have no key twice and whose strings hold no NUL, read in
/// the same single pass that checks the syntax.
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        if text.contains('\0') {
            return Err(E::custom(NUL_MESSAGE));
        }
        Ok(Value::String(text.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut array = Vec::new();
        while let Some(StrictValue(item)) = items.next_element()? {
            array.push(item);
        }
        Ok(Value::Array(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            let StrictValue(value) = entries.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

const NUL_MESSAGE: &str = "must not contain NUL characters";

/// A `422` for a value of the wrong shape. serde's own wording is kept only where it says
/// what was expected: it would otherwise repeat the client's value, which may be a password.
fn deserialize_problem<E: std::fmt::Display>(err: serde_path_to_error::Error<E>) -> ApiError {
    let path = err.path().to_string();
    let message = err.into_inner().to_string();
    ApiError::invalid(failing_field(&path, &message), describe(&message))
}

/// The field an error is about. serde reports a missing or repeated field at the path of
/// the object holding it, so its name is taken from the message.
fn failing_field(path: &str, message: &str) -> String {
    let named = ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (named, path) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => field_name(path),
    }
}

fn describe(message: &str) -> String {
    if message.starts_with("missing field") {
        "is required".to_owned()
    } else if message.starts_with("duplicate field") {
        "is given more than once".to_owned()
    } else if message.starts_with("unknown field") {
        "is not an accepted field".to_owned()
    } else if let Some((_, expected)) = message.split_once(", expected ") {
        format!("must be {expected}")
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "has the wrong type".to_owned()
    } else {
        message.to_owned()
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
    let pairs = form_urlencoded::parse(text);
    if let Some((name, _)) = pairs
        .clone()
        .find(|(n, v)| n.contains('\0') || v.contains('\0'))
    {
        return Err(ApiError::invalid(name.replace('\0', ""), NUL_MESSAGE));
    }
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
        .map_err(deserialize_problem)
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

/// The optional `Idempotency-Key` header, validated.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(IDEMPOTENCY_KEY).iter();
        let invalid = |message: String| ApiError::invalid("Idempotency-Key", message);
        match (values.next(), values.next()) {
            (None, _) => Ok(Self(None)),
            (Some(_), Some(_)) => Err(invalid("must be sent once".to_owned())),
            (Some(value), None) => {
                let text = value.to_str().unwrap_or("\u{fffd}");
                IdempotencyKey::parse(text)
                    .map(|key| Self(Some(key)))
                    .map_err(invalid)
            }
        }
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

/// The caller of an admin route: authenticated as above, then required to be an admin
/// before anything else about the request is looked at.
pub struct AdminUser(pub entity::user::Model);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        Actor::User(&user).require_admin()?;
        Ok(AdminUser(user))
    }
}

/// The token of `Authorization: Bearer <token>`. Another scheme counts as no token; two
/// `Authorization` headers are refused rather than one of them picked.
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        let token_sent = headers.contains_key(AUTHORIZATION);
        return Err(ApiError::Unauthorized { token_sent });
    };
    let refused = || ApiError::Unauthorized { token_sent: true };
    let value = value.to_str().map_err(|_| refused())?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized { token_sent: false });
    }

    let token = token.trim();
    if token.is_empty() {
        Err(refused())
    } else {
        Ok(token)
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
