use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use validator::Validate;

use super::{Problems, non_blank};
use crate::AppState;
use crate::extract::{ApiJson, CurrentUser};
use crate::problem::ApiError;
use crate::views::UserView;

/// `GET /users/me`: the caller, as the database has it now.
pub async fn me(CurrentUser(user): CurrentUser) -> Json<UserView> {
    Json(user.into())
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// `null` or blank clears the name.
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    full_name: Option<String>,
}

/// `PATCH /users/me`: changes the caller's display name.
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Json<UserView>, ApiError> {
    Problems::from_validation(body.validate()).finish()?;

    let full_name = non_blank(body.full_name);
    let user = service::users::update_full_name(&state.db, user.id, full_name).await?;
    Ok(Json(user.into()))
}
