use serde_json::json;

use crate::common::{PASSWORD, TestServer};

#[tokio::test]
async fn logout_all_ends_every_token_issued_so_far() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let second = server.login("ada@example.com", PASSWORD).await;
    let second = second.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let logout = server
        .post("/api/v1/auth/logout-all", &ada.token, json!({}))
        .await;
    let first_after = server.get("/api/v1/users/me", &ada.token).await;
    let second_after = server.get("/api/v1/users/me", &second).await;
    let fresh = server.login("ada@example.com", PASSWORD).await;

    assert_eq!(logout.status, 204, "{}", logout.text);
    assert!(logout.text.is_empty());
    first_after.assert_problem(401, "token_revoked");
    second_after.assert_problem(401, "token_revoked");
    let token = fresh.body["access_token"].as_str().expect("token");
    assert_eq!(server.get("/api/v1/users/me", token).await.status, 200);
}

#[tokio::test]
async fn a_password_change_answers_a_new_token_and_revokes_the_old_ones() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let body = json!({"current_password": PASSWORD, "new_password": "a brand new secret"});

    let changed = server
        .post("/api/v1/users/me/password", &ada.token, body)
        .await;
    let old_token = server.get("/api/v1/users/me", &ada.token).await;
    let old_password = server.login("ada@example.com", PASSWORD).await;
    let new_password = server.login("ada@example.com", "a brand new secret").await;

    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["token_type"], "bearer");
    let new_token = changed.body["access_token"].as_str().expect("token");
    assert_eq!(server.get("/api/v1/users/me", new_token).await.status, 200);
    old_token.assert_problem(401, "token_revoked");
    old_password.assert_problem(401, "invalid_credentials");
    assert_eq!(new_password.status, 200, "{}", new_password.text);
    assert!(!server.logs().contains("a brand new secret"));
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_a_valid_new_one() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let path = "/api/v1/users/me/password";

    let wrong = json!({"current_password": "not it at all", "new_password": "a brand new secret"});
    let short = json!({"current_password": PASSWORD, "new_password": "short"});
    let wrong_current = server.post(path, &ada.token, wrong).await;
    let short_new = server.post(path, &ada.token, short).await;
    let missing = server.post(path, &ada.token, json!({})).await;

    wrong_current.assert_invalid("current_password");
    short_new.assert_invalid("new_password");
    missing.assert_invalid("current_password");
    missing.assert_invalid("new_password");
    assert_eq!(server.get("/api/v1/users/me", &ada.token).await.status, 200);
    assert_eq!(server.login("ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn of_two_password_changes_racing_from_one_old_password_only_one_wins() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let change = |new: &str| json!({"current_password": PASSWORD, "new_password": new});

    let (first, second) = tokio::join!(
        server.post(
            "/api/v1/users/me/password",
            &ada.token,
            change("first new secret")
        ),
        server.post(
            "/api/v1/users/me/password",
            &ada.token,
            change("second new secret")
        ),
    );

    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert!(
        statuses == [200, 401] || statuses == [200, 422],
        "{} / {}",
        first.text,
        second.text
    );
}
