use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::Deserialize;
use service::users::{Email, NewUser, Password};
use utoipa::ToSchema;
use validator::Validate;

use super::{Problems, non_blank};
use crate::AppState;
use crate::extract::{
    ApiJson, CurrentUser, has_content_type, is_form_type, is_json_type, parse_form, parse_json,
    read_body,
};
use crate::openapi::{AuthenticatedErrors, BodyErrors, Invalid, Unavailable};
use crate::problem::{ApiError, Problem};
use crate::views::{TokenView, UserView};

/// Not `Debug`: it holds a password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Stored trimmed and lower-cased; compared ignoring case.
    #[schema(required = true, example = "ada@example.com")]
    email: Option<String>,
    /// 8 to 128 characters.
    #[schema(required = true, example = "correct horse battery")]
    password: Option<String>,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    full_name: Option<String>,
}

impl RegisterRequest {
    fn parse(self) -> Result<NewUser, ApiError> {
        let mut problems = Problems::from_validation(self.validate());
        let email = problems.require("email", self.email);
        let email = email.and_then(|email| problems.check("email", Email::parse(&email)));
        let password = problems.require("password", self.password);
        let password = password.and_then(|text| problems.check("password", Password::parse(&text)));

        let (Some(email), Some(password)) = (email, password) else {
            return Err(problems.into_error());
        };
        problems.finish()?;
        Ok(NewUser {
            email,
            password,
            full_name: non_blank(self.full_name),
            is_admin: false,
        })
    }
}

/// Creates an account.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account", body = UserView),
        (status = 409, description = "`email_taken`", body = Problem,
         content_type = "application/problem+json"),
        Invalid,
        BodyErrors,
        Unavailable,
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let new_user = body.parse()?;
    let user = service::users::register(&state.db, &state.passwords, new_user).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Login credentials, from JSON (`email`) or from the OAuth2 password form (`username`),
/// so that Swagger UI's Authorize button and generated OAuth2 clients work as they are.
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonCredentials {
    email: String,
    password: String,
}

/// The OAuth2 form also carries `grant_type`, `scope` and client fields; they are ignored.
#[derive(Deserialize, ToSchema)]
pub struct FormCredentials {
    username: String,
    password: String,
}

impl FromRequest<AppState> for Credentials {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = has_content_type(request.headers(), is_json_type);
        let is_form = has_content_type(request.headers(), is_form_type);
        if !is_json && !is_form {
            return Err(ApiError::UnsupportedMediaType(
                "Send JSON `{email, password}` or an OAuth2 password form.".into(),
            ));
        }

        let body = read_body(request, state).await?;
        if is_json {
            let JsonCredentials { email, password } = parse_json(&body)?;
            Ok(Self { email, password })
        } else {
            let FormCredentials { username, password } = parse_form(&body)?;
            Ok(Self {
                email: username,
                password,
            })
        }
    }
}

/// Trades an email and password for a bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body(content(
        (JsonCredentials = "application/json"),
        (FormCredentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A token for the `Authorization: Bearer` header",
         body = TokenView),
        (status = 401, description = "`invalid_credentials`: unknown email or wrong password",
         body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`user_banned`, with `ban_reason`", body = Problem,
         content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed logins",
         body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        Invalid,
        BodyErrors,
        Unavailable,
    )
)]
pub async fn login(
    State(state): State<AppState>,
    credentials: Credentials,
) -> Result<Json<TokenView>, ApiError> {
    let (_, token) = service::users::login(
        &state.db,
        &state.passwords,
        &state.tokens,
        &state.login_throttle,
        &credentials.email,
        &credentials.password,
    )
    .await?;
    Ok(Json(token.into()))
}

/// Ends every token issued to the caller so far.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-all",
    tag = "auth",
    security(("password" = []), ("bearer" = [])),
    responses((status = 204, description = "Every earlier token is revoked"), AuthenticatedErrors)
)]
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, ApiError> {
    service::users::revoke_tokens(&state.db, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
