//! Tally's HTTP face: routes, extractors, input validation and the one mapping from service
//! errors to problem documents. Handlers only translate; the service decides.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use service::money::Currencies;
use service::passwords::Passwords;
use service::throttle::LoginThrottle;
use service::tokens::Tokens;
use tower_http::catch_panic::CatchPanicLayer;

pub mod extract;
pub mod openapi;
pub mod problem;
pub mod request_context;
mod routes;
pub mod views;

/// The default and the contract's limit for a request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler may use. Holds no user and nothing else that could go stale: the
/// caller is loaded anew on each request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub tokens: Arc<Tokens>,
    pub passwords: Passwords,
    pub currencies: Arc<Currencies>,
    pub login_throttle: Arc<LoginThrottle>,
}

/// Settings of the HTTP layer itself.
#[derive(Clone, Copy, Debug)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The whole application as a `Router`, so tests can drive it with or without a socket.
pub fn app(state: AppState, settings: HttpSettings) -> Router {
    Router::new()
        .nest("/api/v1", api_routes())
        .route("/health/live", get(routes::health::live))
        .route("/health/ready", get(routes::health::ready))
        .merge(openapi::routes())
        .fallback(problem::route_not_found)
        .layer(from_fn(problem::problem_for_bare_errors))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(from_fn(request_context::request_context))
        .with_state(state)
}

fn api_routes() -> Router<AppState> {
    use routes::{admin, auth, transactions, users};

    let transactions_collection = get(transactions::list).post(transactions::create);
    let admin_users = get(admin::list_users);
    let admin_audit = get(admin::audit_log);

    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/users/me", get(users::me).patch(users::update_me))
        .route("/users/me/password", post(users::change_password))
        .route("/admin/users", admin_users.clone())
        .route("/admin/users/", admin_users)
        .route("/admin/users/{id}", get(admin::get_user))
        .route("/admin/users/{id}/ban", post(admin::ban))
        .route("/admin/users/{id}/unban", post(admin::unban))
        .route("/admin/users/{id}/promote", post(admin::promote))
        .route("/admin/users/{id}/demote", post(admin::demote))
        .route("/admin/audit", admin_audit.clone())
        .route("/admin/audit/", admin_audit)
        .route("/transactions", transactions_collection.clone())
        .route("/transactions/", transactions_collection)
        .route("/transactions/{id}", get(transactions::get_one))
        .route("/balances", get(transactions::balances))
}
