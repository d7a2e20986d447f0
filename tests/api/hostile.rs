//! Inputs a careless or hostile client might send: each gets a clear problem document and
//! changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::common::{Reply, TestServer};

async fn raw_post(server: &TestServer, path: &str, token: &str, body: &str) -> Reply {
    let response = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    Reply::from(response).await
}

#[tokio::test]
async fn forged_cursors_outside_any_real_time_are_422() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "1.00", "USD").await;

    // base64url of "v1.-8000000000000000000.5", "v1.-300000000000000000.5" and a time in
    // the year 10000.
    for cursor in [
        "djEuLTgwMDAwMDAwMDAwMDAwMDAwMDAuNQ",
        "djEuLTMwMDAwMDAwMDAwMDAwMDAwMC41",
        "djEuMjUzNDAyMzAwODAwMDAwMDAwLjU",
    ] {
        let path = format!("/api/v1/transactions/?cursor={cursor}");
        server.get(&path, &ada.token).await.assert_invalid("cursor");
    }

    assert_eq!(
        server.get("/api/v1/transactions/", &ada.token).await.status,
        200
    );
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_on_every_backend() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let admin = server.admin("root@example.com").await;

    let register =
        json!({"email": "nul@example.com", "password": "password123", "full_name": "a\u{0}b"});
    let deposit =
        json!({"kind": "deposit", "amount": "1.00", "currency": "USD", "description": "a\u{0}b"});
    let registered = server
        .send(Method::POST, "/api/v1/auth/register", None, Some(register))
        .await;
    let deposited = server
        .post("/api/v1/transactions/", &ada.token, deposit)
        .await;
    let patched = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(json!({"full_name": "x\u{0}"})),
        )
        .await;
    let searched = server
        .get("/api/v1/admin/users?q=a%00b", &admin.token)
        .await;

    registered.assert_invalid("full_name");
    deposited.assert_invalid("description");
    patched.assert_invalid("full_name");
    searched.assert_invalid("q");
    assert_eq!(server.db.transaction_count().await, 0);
}

#[tokio::test]
async fn a_password_of_the_wrong_type_is_not_repeated_in_the_answer() {
    let server = TestServer::spawn().await;

    let login = json!({"email": "ada@example.com", "password": 27_182_818_284_u64});
    let reply = server
        .send(Method::POST, "/api/v1/auth/login", None, Some(login))
        .await;

    reply.assert_invalid("password");
    assert!(!reply.text.contains("27182818284"), "{}", reply.text);
}

#[tokio::test]
async fn bodies_must_be_objects_without_repeated_keys() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "10.00", "USD").await;
    let path = "/api/v1/transactions/";

    let array = raw_post(
        &server,
        path,
        &ada.token,
        r#"["deposit", "3.00", "USD", null, null]"#,
    )
    .await;
    let repeated = raw_post(
        &server,
        path,
        &ada.token,
        r#"{"kind": "deposit", "kind": "withdrawal", "amount": "1.00", "currency": "USD"}"#,
    )
    .await;

    array.assert_invalid("body");
    repeated.assert_invalid("kind");
    assert_eq!(server.db.transaction_count().await, 1);
}

#[tokio::test]
async fn every_missing_field_is_listed_and_repeated_parameters_are_named() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let empty = server
        .post("/api/v1/transactions/", &ada.token, json!({}))
        .await;
    let repeated = server
        .get("/api/v1/transactions/?limit=1&limit=2", &ada.token)
        .await;
    let form = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .form(&[("username", "ada@example.com")])
        .send()
        .await
        .expect("sent");

    for field in ["kind", "amount", "currency"] {
        empty.assert_invalid(field);
    }
    repeated.assert_invalid("limit");
    Reply::from(form).await.assert_invalid("password");
}

#[tokio::test]
async fn admin_routes_refuse_non_admins_before_looking_at_the_input() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let bad_body = server
        .post(
            "/api/v1/admin/users/1/ban",
            &ada.token,
            json!({"reason": ""}),
        )
        .await;
    let bad_id = server
        .post(
            "/api/v1/admin/users/abc/ban",
            &ada.token,
            json!({"reason": "x"}),
        )
        .await;

    bad_body.assert_problem(403, "forbidden");
    bad_id.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn a_ban_reason_of_only_spaces_is_refused() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;

    let path = format!("/api/v1/admin/users/{}/ban", ada.id);
    let blank = server
        .post(&path, &admin.token, json!({"reason": "   "}))
        .await;
    let long = server
        .post(&path, &admin.token, json!({"reason": "x".repeat(501)}))
        .await;

    blank.assert_invalid("reason");
    long.assert_invalid("reason");
    assert_eq!(server.get("/api/v1/users/me", &ada.token).await.status, 200);
}

#[tokio::test]
async fn patching_without_the_field_leaves_the_name_alone() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let name = json!({"full_name": "Ada"});
    server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(name),
        )
        .await;

    let untouched = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(json!({})),
        )
        .await;

    assert_eq!(untouched.status, 200, "{}", untouched.text);
    assert_eq!(untouched.body["full_name"], "Ada");
}

#[tokio::test]
async fn another_authorization_scheme_counts_as_no_token() {
    let server = TestServer::spawn().await;

    let response = server
        .client
        .get(server.url("/api/v1/users/me"))
        .header("authorization", "Basic YWRhOnNlY3JldA==")
        .send()
        .await
        .expect("sent");
    let reply = Reply::from(response).await;

    reply.assert_problem(401, "unauthorized");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}
