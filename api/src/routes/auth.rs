use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use serde::Deserialize;
use service::users::{Email, NewUser, Password};
use validator::Validate;

use super::{Problems, non_blank};
use crate::AppState;
use crate::extract::{
    ApiJson, CurrentUser, has_content_type, is_form_type, is_json_type, parse_form, parse_json,
    read_body,
};
use crate::problem::ApiError;
use crate::views::{TokenView, UserView};

/// Not `Debug`: it holds a password.
#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    email: Option<String>,
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

/// `POST /auth/register`: creates an account.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCredentials {
    email: String,
    password: String,
}

/// The OAuth2 form also carries `grant_type`, `scope` and client fields; they are ignored.
#[derive(Deserialize)]
struct FormCredentials {
    username: String,
    password: String,
}

impl FromRequest<AppState> for Credentials {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let headers = request.headers().clone();
        if has_content_type(&headers, is_json_type) {
            let body = read_body(request, state).await?;
            let JsonCredentials { email, password } = parse_json(&body)?;
            Ok(Self { email, password })
        } else if has_content_type(&headers, is_form_type) {
            let body = read_body(request, state).await?;
            let FormCredentials { username, password } = parse_form(&body)?;
            Ok(Self {
                email: username,
                password,
            })
        } else {
            Err(ApiError::UnsupportedMediaType(
                "Send JSON `{email, password}` or an OAuth2 password form.".into(),
            ))
        }
    }
}

/// `POST /auth/login`: trades an email and password for a bearer token.
pub async fn login(
    State(state): State<AppState>,
    credentials: Credentials,
) -> Result<Json<TokenView>, ApiError> {
    let (_, token) = service::users::login(
        &state.db,
        &state.passwords,
        &state.tokens,
        &credentials.email,
        &credentials.password,
    )
    .await?;
    Ok(Json(token.into()))
}

/// `POST /auth/logout-all`: ends every token issued to the caller so far.
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, ApiError> {
    service::users::revoke_tokens(&state.db, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
