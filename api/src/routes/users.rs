use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Deserializer};
use service::users::Password;
use validator::Validate;

use super::{Problems, non_blank};
use crate::AppState;
use crate::extract::{ApiJson, CurrentUser};
use crate::problem::ApiError;
use crate::views::{TokenView, UserView};

/// `GET /users/me`: the caller, as the database has it now.
pub async fn me(CurrentUser(user): CurrentUser) -> Json<UserView> {
    Json(user.into())
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// Absent leaves the name as it is; `null` or blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    full_name: Option<Option<String>>,
}

/// Marks a field that was sent, so that `null` can be told apart from an absent field.
fn present<'de, D: Deserializer<'de>>(value: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(value).map(Some)
}

/// `PATCH /users/me`: changes the caller's display name.
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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    current_password: Option<String>,
    new_password: Option<String>,
}

/// `POST /users/me/password`: replaces the caller's password, ends every older token and
/// answers with a new one.
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
        &user,
        &current,
        new,
    )
    .await?;
    Ok(Json(token.into()))
}
