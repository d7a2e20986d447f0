use reqwest::Method;
use serde_json::json;

use crate::common::{PASSWORD, TestDb, TestServer};

#[tokio::test]
async fn registered_user_reads_its_own_transactions_with_its_token() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "12.50", "USD").await;
    server.deposit(&bob, "7.00", "USD").await;

    let page = server.get("/api/v1/transactions/", &ada.token).await;

    assert_eq!(page.status, 200, "{}", page.text);
    let items = page.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["amount"], "12.50");
    assert_eq!(items[0]["kind"], "deposit");
    assert!(page.body["next_cursor"].is_null());
}

#[tokio::test]
async fn emails_are_stored_trimmed_and_lower_cased_and_unique_ignoring_case() {
    let server = TestServer::spawn().await;

    let first = server.register("  Ada.Lovelace@Example.COM ").await;
    let second = server.register("ada.lovelace@example.com").await;

    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["email"], "ada.lovelace@example.com");
    second.assert_problem(409, "email_taken");
    let login = server.login("ADA.LOVELACE@example.com ", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
}

#[tokio::test]
async fn a_user_has_exactly_the_documented_fields_and_no_secrets() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let me = server.get("/api/v1/users/me", &ada.token).await;

    assert_eq!(me.status, 200, "{}", me.text);
    let mut keys: Vec<&str> = me
        .body
        .as_object()
        .expect("object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    let expected = [
        "ban_reason",
        "banned_at",
        "created_at",
        "email",
        "full_name",
        "id",
        "is_active",
        "is_admin",
        "updated_at",
    ];
    assert_eq!(keys, expected);
    assert!(!me.text.contains("argon2"));
    assert!(!server.logs().contains(PASSWORD));
    assert!(!server.logs().contains(&ada.token));
}

#[tokio::test]
async fn login_works_with_json_and_with_the_oauth2_password_form() {
    let server = TestServer::spawn().await;
    server.user("ada@example.com").await;

    let form = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sent");
    let form = crate::common::Reply::from(form).await;

    assert_eq!(form.status, 200, "{}", form.text);
    assert_eq!(form.body["token_type"], "bearer");
    assert_eq!(form.body["expires_in"], 3600);
    let token = form.body["access_token"].as_str().expect("token");
    assert_eq!(server.get("/api/v1/users/me", token).await.status, 200);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let server = TestServer::spawn().await;
    server.user("ada@example.com").await;

    let wrong_password = server.login("ada@example.com", "not the password").await;
    let unknown_email = server.login("nobody@example.com", PASSWORD).await;

    wrong_password.assert_problem(401, "invalid_credentials");
    unknown_email.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn profile_name_can_be_set_and_cleared() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let set = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(json!({"full_name": "Ada"})),
        )
        .await;
    let cleared = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(json!({"full_name": null})),
        )
        .await;

    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["full_name"], "Ada");
    assert_eq!(cleared.body["full_name"], serde_json::Value::Null);
    let too_long = json!({ "full_name": "x".repeat(201) });
    server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.token),
            Some(too_long),
        )
        .await
        .assert_invalid("full_name");
}

#[tokio::test]
async fn registration_reports_every_bad_field_at_once() {
    let server = TestServer::spawn().await;
    let body = json!({ "email": "not-an-email", "password": "short" });

    let reply = server
        .send(Method::POST, "/api/v1/auth/register", None, Some(body))
        .await;

    reply.assert_invalid("email");
    reply.assert_invalid("password");
    assert_eq!(server.db.query_i64("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn a_client_request_id_is_echoed_and_logged_and_a_bad_one_replaced() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let sent = server
        .client
        .get(server.url("/api/v1/users/me"))
        .bearer_auth(&ada.token)
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("sent");
    let unsafe_id = server
        .client
        .get(server.url("/health/live"))
        .header("x-request-id", "has spaces\tand tabs")
        .send()
        .await
        .expect("sent");

    assert_eq!(sent.headers()["x-request-id"], "trace-abc-123");
    let replaced = unsafe_id.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(!replaced.is_empty() && !replaced.contains(' '));
    let logs = server.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("trace-abc-123"))
        .expect("logged");
    assert!(line.contains("status=200"), "{line}");
}

#[tokio::test]
async fn health_routes_answer() {
    let server = TestServer::spawn().await;

    let live = server.send(Method::GET, "/health/live", None, None).await;
    let ready = server.send(Method::GET, "/health/ready", None, None).await;

    assert_eq!(
        (live.status, live.body["status"].as_str()),
        (200, Some("ok"))
    );
    assert_eq!(ready.status, 200, "{}", ready.text);
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_address_out_for_a_while() {
    let settings = [
        ("TALLY_LOGIN_MAX_FAILURES", "3"),
        ("TALLY_LOGIN_LOCKOUT_SECS", "2"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    server.user("ada@example.com").await;
    server.user("bob@example.com").await;

    for _ in 0..3 {
        let wrong = server.login("ada@example.com", "not the password").await;
        wrong.assert_problem(401, "invalid_credentials");
    }
    let locked = server.login("ADA@example.com", PASSWORD).await;
    let someone_else = server.login("bob@example.com", PASSWORD).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let later = server.login("ada@example.com", PASSWORD).await;

    locked.assert_problem(429, "rate_limited");
    let retry_after: u64 = locked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(someone_else.status, 200);
    assert_eq!(later.status, 200, "{}", later.text);
}

fn token_of(login: &crate::common::Reply) -> &str {
    login.body["access_token"].as_str().expect("token")
}

#[tokio::test]
async fn emails_differing_by_an_accent_are_different_accounts_on_every_backend() {
    let server = TestServer::spawn().await;
    server.user("bob@example.com").await;

    let accented = server.register("bób@example.com").await;
    let login_as_bob = server.login("bób@example.com", PASSWORD).await;
    let wrong_account = server.login("böb@example.com", PASSWORD).await;

    assert_eq!(accented.status, 201, "{}", accented.text);
    assert_eq!(login_as_bob.status, 200);
    wrong_account.assert_problem(401, "invalid_credentials");
    let bob = server.login("bob@example.com", PASSWORD).await;
    let accented_me = server
        .get("/api/v1/users/me", token_of(&login_as_bob))
        .await;
    let plain_me = server.get("/api/v1/users/me", token_of(&bob)).await;
    assert_ne!(accented_me.body["id"], plain_me.body["id"]);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_no_more_tries_than_the_limit() {
    let settings = [("TALLY_LOGIN_MAX_FAILURES", "3")];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    server.user("ada@example.com").await;

    let guesses = (0..20).map(|i| {
        server.login(
            "ada@example.com",
            if i < 10 { "wrong one" } else { "wrong two" },
        )
    });
    let replies = futures::future::join_all(guesses).await;

    let checked = replies.iter().filter(|r| r.status == 401).count();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((checked, refused), (3, 17));
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_too() {
    let settings = [("TALLY_LOGIN_MAX_FAILURES", "2")];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    let ada = server.user("ada@example.com").await;
    let guess = json!({"current_password": "a wrong guess", "new_password": "a brand new secret"});

    let first = server
        .post("/api/v1/users/me/password", &ada.token, guess.clone())
        .await;
    let second = server
        .post("/api/v1/users/me/password", &ada.token, guess.clone())
        .await;
    let third = server
        .post("/api/v1/users/me/password", &ada.token, guess)
        .await;

    first.assert_invalid("current_password");
    second.assert_invalid("current_password");
    third.assert_problem(429, "rate_limited");
}
