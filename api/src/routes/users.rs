use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Deserializer};
use service::users::Password;
use utoipa::ToSchema;
use validator::Validate;

use super::{Problems, non_blank};
use crate::AppState;
use crate::extract::{ApiJson, CurrentUser};
use crate::openapi::{AuthenticatedErrors, BodyErrors, Invalid};
use crate::problem::{ApiError, Problem};
use crate::views::{TokenView, UserView};

/// The caller, as the database has it now.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    security(("password" = []), ("bearer" = [])),
    responses((status = 200, description = "The caller", body = UserView), AuthenticatedErrors)
)]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<UserView> {
    Json(user.into())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// Absent leaves the name as it is; `null` or blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    full_name: Option<Option<String>>,
}

/// Marks a field that was sent, so that `null` can be told apart from an absent field.
fn present<'de, D: Deserializer<'de>>(value: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(value).map(Some)
}

/// Changes the caller's display name.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    tag = "users",
    security(("password" = []), ("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The caller, updated", body = UserView),
        Invalid,
        BodyErrors,
        AuthenticatedErrors,
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Json<UserView>, ApiError> {
    Problems::from_validation(body.validate()).finish()?;
    let Some(full_name) = body.full_name else {
        return Ok(Json(user.into()));
    };

    let user = service::users::update_full_name(&state.db, user.id, non_blank(full_name)).await?;
    Ok(Json(user.into()))
}

/// Not `Debug`: it holds passwords.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(required = true)]
    current_password: Option<String>,
    /// 8 to 128 characters.
    #[schema(required = true)]
    new_password: Option<String>,
}

/// Replaces the caller's password, ends every older token and answers with a new one.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/password",
    tag = "users",
    security(("password" = []), ("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "A new token; all older ones are revoked", body = TokenView),
        (status = 422, description = "`validation_error`, e.g. a wrong `current_password`",
         body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many wrong current passwords",
         body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        BodyErrors,
        AuthenticatedErrors,
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<Json<TokenView>, ApiError> {
    let mut problems = Problems::default();
    let current = problems.require("current_password", body.current_password);
    let new = problems.require("new_password", body.new_password);
    let new = new.and_then(|text| problems.check("new_password", Password::parse(&text)));
    let (Some(current), Some(new)) = (current, new) else {
        return Err(problems.into_error());
    };

    let token = service::users::change_password(
        &state.db,
        &state.passwords,
        &state.tokens,
        &state.login_throttle,
        &user,
        &current,
        new,
    )
    .await?;
    Ok(Json(token.into()))
}
