use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use service::admin::Actor;
use utoipa::{IntoParams, ToSchema};

use super::{Problems, parse_page};
use crate::AppState;
use crate::extract::{AdminUser, ApiJson, ApiPath, ApiQuery};
use crate::openapi::{AuthenticatedErrors, BodyErrors, Invalid, NotFound};
use crate::problem::ApiError;
use crate::views::{AuditEntryView, PageView, UserView};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// 1 to 100; 20 when absent.
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only users whose email or name contains this, ignoring case.
    q: Option<String>,
}

/// A page of users, newest first, optionally filtered by `q`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, description = "A page of users, newest first", body = PageView<UserView>),
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<Json<PageView<UserView>>, ApiError> {
    let mut problems = Problems::default();
    let page = parse_page(query.limit, query.cursor.as_deref(), &mut problems);
    problems.finish()?;

    let users = service::users::list(&state.db, page, query.q.as_deref()).await?;
    Ok(Json(PageView::new(users, UserView::from)))
}

/// One user.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        NotFound,
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn get_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::users::get(&state.db, id).await?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// 1 to 500 characters; shown to the banned user.
    #[schema(required = true, example = "chargeback fraud")]
    reason: Option<String>,
}

/// Bans a user with a reason and ends every token issued to it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/ban",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    request_body = BanRequest,
    responses(
        (status = 200, description = "The user, banned", body = UserView),
        NotFound,
        Invalid,
        BodyErrors,
        AuthenticatedErrors,
    )
)]
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

/// Lifts a user's ban.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unban",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, active again", body = UserView),
        NotFound,
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn unban(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::unban(&state.db, Actor::User(&caller), id).await?;
    Ok(Json(user.into()))
}

/// Gives a user the admin right.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/promote",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, now an admin", body = UserView),
        NotFound,
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn promote(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::set_admin(&state.db, Actor::User(&caller), id, true).await?;
    Ok(Json(user.into()))
}

/// Takes the admin right from a user (not from oneself).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/demote",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, no longer an admin", body = UserView),
        NotFound,
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn demote(
    State(state): State<AppState>,
    AdminUser(caller): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = service::admin::set_admin(&state.db, Actor::User(&caller), id, false).await?;
    Ok(Json(user.into()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 to 100; 20 when absent.
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only the entries about this user.
    user_id: Option<i64>,
}

/// Administrative changes, newest first, optionally about one user.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    security(("password" = []), ("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit entries, newest first",
         body = PageView<AuditEntryView>),
        Invalid,
        AuthenticatedErrors,
    )
)]
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
