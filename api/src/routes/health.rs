use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::ApiError;

/// Answers while the process serves; says nothing of the database.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Answers `200` only when the database replies within a short timeout.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if service::database::is_ready(&state.db).await {
        Ok(Json(json!({ "status": "ok" })))
    } else {
        Err(ApiError::Unavailable)
    }
}
