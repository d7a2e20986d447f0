//! The OpenAPI 3.1 description of the API, served at `/openapi.json`, and the Swagger UI
//! at `/docs`, both from the binary itself.

use axum::Router;
use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::problem::{FieldError, Problem};
use crate::routes::{admin, auth, health, transactions, users};

/// Where Swagger UI's Authorize button sends the OAuth2 password form.
const TOKEN_URL: &str = "/api/v1/auth/login";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tally",
        description = "A per-user transactions ledger. Every error is an RFC 9457 problem \
                       document with a stable `code`."
    ),
    paths(
        auth::register,
        auth::login,
        auth::logout_all,
        users::me,
        users::update_me,
        users::change_password,
        admin::list_users,
        admin::get_user,
        admin::ban,
        admin::unban,
        admin::promote,
        admin::demote,
        admin::audit_log,
        transactions::create,
        transactions::list,
        transactions::get_one,
        transactions::balances,
        health::live,
        health::ready,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "users", description = "The caller's own account"),
        (name = "admin", description = "For admins only"),
        (name = "transactions", description = "The ledger"),
        (name = "health", description = "For load balancers and operators"),
    )
)]
pub struct ApiDoc;

/// Registers the two ways to authenticate: the OAuth2 password flow, which Swagger UI's
/// Authorize button drives against the login route, and a bearer token pasted in.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let password = Flow::Password(Password::new(TOKEN_URL, Scopes::new()));
        components.add_security_scheme("password", SecurityScheme::OAuth2(OAuth2::new([password])));
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT");
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer.build()));
    }
}

/// The errors every authenticated route can answer with.
#[derive(IntoResponses)]
pub enum AuthenticatedErrors {
    /// No token, or one that is malformed, expired, revoked, or whose user is gone.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(#[to_schema] Problem),
    /// The user is banned (`user_banned`, with `ban_reason`) or lacks the right.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// The database could not be reached in time.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// `404 not_found`.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "`not_found`",
    content_type = "application/problem+json"
)]
pub struct NotFound(#[to_schema] pub Problem);

/// `422 validation_error`, listing each problem in `errors`.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "`validation_error`",
    content_type = "application/problem+json"
)]
pub struct Invalid(#[to_schema] pub Problem);

/// The refusals of a request body before anything else is looked at.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// `malformed_json`: the body is not well-formed JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(#[to_schema] Problem),
    /// `payload_too_large`: the body is over the limit (64 KiB by default).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// `unsupported_media_type`: the body is not JSON.
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}

/// `503 service_unavailable`, for routes that answer without a token.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "`service_unavailable`: the database could not be reached in time",
    content_type = "application/problem+json"
)]
pub struct Unavailable(#[to_schema] pub Problem);

/// `/openapi.json` and the Swagger UI at `/docs`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    // No outside validator: the page must not send the document's address anywhere.
    let config = utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none");
    let ui = SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .config(config);
    Router::from(ui)
}
