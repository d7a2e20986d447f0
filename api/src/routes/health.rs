use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::{ApiError, Problem};

/// Answers while the process serves; says nothing of the database.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`"))
)]
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Answers `200` only when the database replies within a short timeout.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`"),
        (status = 503, description = "`service_unavailable`", body = Problem,
         content_type = "application/problem+json"),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if service::database::is_ready(&state.db).await {
        Ok(Json(json!({ "status": "ok" })))
    } else {
        Err(ApiError::Unavailable)
    }
}
