use reqwest::Method;
use serde_json::Value;

use crate::common::TestServer;

/// Every route of the API, as the OpenAPI document must list it.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout-all"),
    ("get", "/api/v1/users/me"),
    ("patch", "/api/v1/users/me"),
    ("post", "/api/v1/users/me/password"),
    ("get", "/api/v1/admin/users"),
    ("get", "/api/v1/admin/users/{id}"),
    ("post", "/api/v1/admin/users/{id}/ban"),
    ("post", "/api/v1/admin/users/{id}/unban"),
    ("post", "/api/v1/admin/users/{id}/promote"),
    ("post", "/api/v1/admin/users/{id}/demote"),
    ("get", "/api/v1/admin/audit"),
    ("post", "/api/v1/transactions/"),
    ("get", "/api/v1/transactions/"),
    ("get", "/api/v1/transactions/{id}"),
    ("get", "/api/v1/balances"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
];

/// The statuses a route's description must list, from what the route can answer.
fn expected_statuses(method: &str, path: &str) -> Vec<&'static str> {
    let mut statuses = Vec::new();
    let open = ["/api/v1/auth/register", "/api/v1/auth/login"];
    if path.starts_with("/api/") && !open.contains(&path) {
        statuses.extend(["401", "403"]);
    }
    if path != "/health/live" {
        statuses.push("503");
    }
    let takes_body = matches!(method, "post" | "patch")
        && !["logout-all", "unban", "promote", "demote"]
            .iter()
            .any(|p| path.ends_with(p));
    if takes_body {
        statuses.extend(["400", "413", "415", "422"]);
    }
    if path.contains("{id}") {
        statuses.push("422");
    }
    if path.ends_with("/login") || path.ends_with("/password") {
        statuses.push("429");
    }
    statuses
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_with_its_errors() {
    let server = TestServer::spawn().await;

    let reply = server.send(Method::GET, "/openapi.json", None, None).await;

    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    for (method, path) in ROUTES {
        let operation = &reply.body["paths"][path][method];
        let responses = operation["responses"].as_object();
        let responses = responses.unwrap_or_else(|| panic!("{method} {path} is not described"));
        for status in expected_statuses(method, path) {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not list {status}"
            );
        }
        for (status, response) in responses {
            let described = response["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty());
            assert!(described, "{method} {path} {status} has no description");
        }
    }
    let create = &reply.body["paths"]["/api/v1/transactions/"]["post"]["responses"];
    let problem = &create["409"]["content"]["application/problem+json"]["schema"]["$ref"];
    assert_eq!(problem, "#/components/schemas/Problem");
    let flows = &reply.body["components"]["securitySchemes"]["password"]["flows"];
    assert_eq!(flows["password"]["tokenUrl"], "/api/v1/auth/login");
}

#[tokio::test]
async fn swagger_ui_is_served_by_the_binary_itself() {
    let server = TestServer::spawn().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let bare = no_redirects
        .get(server.url("/docs"))
        .send()
        .await
        .expect("sent");
    let page = server
        .client
        .get(server.url("/docs/"))
        .send()
        .await
        .expect("sent");
    let page_text = page.text().await.expect("html");
    let script = server
        .send(Method::GET, "/docs/swagger-ui-bundle.js", None, None)
        .await;

    assert!(bare.status().is_redirection());
    assert_eq!(bare.headers()["location"], "/docs/");
    assert!(page_text.contains("swagger-ui"), "{page_text}");
    assert!(
        !page_text.contains("https://") && !page_text.contains("http://"),
        "{page_text}"
    );
    let initializer = server
        .send(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert!(
        initializer.text.contains("\"validatorUrl\": \"none\""),
        "{}",
        initializer.text
    );
    assert_eq!(script.status, 200);
    assert!(
        script.text.len() > 100_000,
        "the bundle is served, not fetched from elsewhere"
    );
}

#[tokio::test]
async fn the_authorize_button_s_password_form_gets_a_usable_token() {
    let server = TestServer::spawn().await;
    server.user("ada@example.com").await;

    // What Swagger UI posts for the OAuth2 password flow.
    let form = [
        ("grant_type", "password"),
        ("username", "ada@example.com"),
        ("password", crate::common::PASSWORD),
        ("scope", ""),
        ("client_id", ""),
    ];
    let response = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .form(&form)
        .send()
        .await
        .expect("sent");
    let body: Value = response.json().await.expect("json");
    let token = body["access_token"].as_str().expect("access_token");

    assert_eq!(body["token_type"], "bearer");
    assert_eq!(server.get("/api/v1/users/me", token).await.status, 200);
}
