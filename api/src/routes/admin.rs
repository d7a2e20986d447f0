use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use service::admin::Actor;

use super::{Problems, parse_page};
use crate::AppState;
use crate::extract::{AdminUser, ApiJson, ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::views::{AuditEntryView, PageView, UserView};

#[derive(Debug, Default, Deserialize)]
pub struct ListUsersQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    q: Option<String>,
}

/// `GET /admin/users`: a page of users, newest first, optionally filtered by `q`.
pub async fn list_users(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<Json<PageView<UserView>>, ApiError> {
    let mut problems = Problems::default();
    let page = parse_page(query.limit, query.cursor.as_deref(), &mut problems);
    problems.finish()?;

    let users = service::users::list(&state.db, page, query.q.as_deref()).await?;
    Ok(Json(PageView::new(users, UserView::from)))
}

/// `GET /admin/users/{id}`.
pub async fn get_user(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::users::get(&state.db, id).await?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    reason: Option<String>,
}

/// `POST /admin/users/{id}/ban`: bans a user and ends its tokens.
pub async fn ban(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BanRequest>,
) -> Result<Json<UserView>, ApiError> {
    let mut problems = Problems::default();
    let reason = problems.require("reason", body.reason);
    let Some(reason) = reason else {
        return Err(problems.into_error());
    };

    let user = service::admin::ban(&state.db, Actor::User(&caller), id, &reason).await?;
    Ok(Json(user.into()))
}

/// `POST /admin/users/{id}/unban`.
pub async fn unban(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::unban(&state.db, Actor::User(&caller), id).await?;
    Ok(Json(user.into()))
}

/// `POST /admin/users/{id}/promote`.
pub async fn promote(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::set_admin(&state.db, Actor::User(&caller), id, true).await?;
    Ok(Json(user.into()))
}

/// `POST /admin/users/{id}/demote`.
pub async fn demote(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::set_admin(&state.db, Actor::User(&caller), id, false).await?;
    Ok(Json(user.into()))
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    user_id: Option<i64>,
}

/// `GET /admin/audit`: administrative changes, newest first, optionally about one user.
pub async fn audit_log(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<PageView<AuditEntryView>>, ApiError> {
    let mut problems = Problems::default();
    let page = parse_page(query.limit, query.cursor.as_deref(), &mut problems);
    problems.finish()?;

    let entries =
        service::admin::audit_log(&state.db, Actor::User(&caller), page, query.user_id).await?;
    Ok(Json(PageView::new(entries, AuditEntryView::from)))
}
