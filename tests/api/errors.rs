use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::common::{JWT_SECRET, TestDb, TestServer};

fn token(algorithm: Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
    let key = EncodingKey::from_secret(secret).expect("key");
    jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).expect("token")
}

fn now() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since_epoch.expect("time").as_secs()).expect("seconds")
}

/// Claims as the server issues them, expiring `expires_in` seconds from now.
fn claims(sub: &str, expires_in: i64) -> serde_json::Value {
    json!({"sub": sub, "ver": 0, "iat": now(), "exp": now() + expires_in})
}

fn without(mut claims: serde_json::Value, name: &str) -> serde_json::Value {
    claims.as_object_mut().expect("object").remove(name);
    claims
}

#[tokio::test]
async fn a_token_made_like_the_server_s_own_is_accepted_within_the_leeway() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let sub = ada.id.to_string();
    let secret = JWT_SECRET.as_bytes();

    let fresh = server
        .get(
            "/api/v1/users/me",
            &token(Algorithm::HS256, secret, claims(&sub, 60)),
        )
        .await;
    let just_expired = token(Algorithm::HS256, secret, claims(&sub, -2));
    let just_expired = server.get("/api/v1/users/me", &just_expired).await;

    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(
        just_expired.status, 200,
        "a 5 s leeway: {}",
        just_expired.text
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthorized_with_a_bearer_challenge() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let sub = ada.id.to_string();
    let secret = JWT_SECRET.as_bytes();
    let other_secret = b"another-secret-of-enough-length-1234567";
    let unsigned = {
        let (_, rest) = ada.token.split_once('.').expect("jwt");
        let (payload, _) = rest.split_once('.').expect("jwt");
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")
    };

    let bad_tokens = [
        token(Algorithm::HS256, secret, claims(&sub, -30)),
        token(Algorithm::HS256, other_secret, claims(&sub, 60)),
        token(Algorithm::HS512, secret, claims(&sub, 60)),
        token(Algorithm::HS256, secret, without(claims(&sub, 60), "exp")),
        token(Algorithm::HS256, secret, without(claims(&sub, 60), "sub")),
        token(Algorithm::HS256, secret, claims("not-a-number", 60)),
        unsigned,
        "garbage".to_owned(),
    ];
    for bad in bad_tokens {
        let reply = server.get("/api/v1/users/me", &bad).await;
        reply.assert_problem(401, "unauthorized");
        let challenge = reply.header("www-authenticate");
        assert_eq!(challenge, Some("Bearer error=\"invalid_token\""), "{bad}");
    }
    let none = server
        .send(Method::GET, "/api/v1/users/me", None, None)
        .await;
    none.assert_problem(401, "unauthorized");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn malformed_json_is_400_and_wrong_content_type_is_415() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let url = server.url("/api/v1/transactions/");

    let truncated = server
        .client
        .post(&url)
        .bearer_auth(&ada.token)
        .header("content-type", "application/json")
        .body(r#"{"kind": "deposit", "amount": 12"#)
        .send()
        .await
        .expect("sent");
    let as_text = server
        .client
        .post(&url)
        .bearer_auth(&ada.token)
        .header("content-type", "text/plain")
        .body(r#"{"kind": "deposit", "amount": "1.00", "currency": "USD"}"#)
        .send()
        .await
        .expect("sent");

    crate::common::Reply::from(truncated)
        .await
        .assert_problem(400, "malformed_json");
    crate::common::Reply::from(as_text)
        .await
        .assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let description = "x".repeat(70_000);
    let body = json!({
        "kind": "deposit", "amount": "1.00", "currency": "USD", "description": description,
    });

    let reply = server.post("/api/v1/transactions/", &ada.token, body).await;

    reply.assert_problem(413, "payload_too_large");
    assert_eq!(server.db.transaction_count().await, 0);
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_ids_are_problem_documents() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let unknown = server.get("/api/v1/nothing-here", &ada.token).await;
    let wrong_method = server
        .send(Method::DELETE, "/api/v1/balances", Some(&ada.token), None)
        .await;
    let bad_id = server.get("/api/v1/transactions/abc", &ada.token).await;
    let huge_id = server
        .get("/api/v1/transactions/99999999999999999999", &ada.token)
        .await;

    unknown.assert_problem(404, "not_found");
    wrong_method.assert_problem(405, "method_not_allowed");
    assert!(
        wrong_method
            .header("allow")
            .is_some_and(|allow| allow.contains("GET"))
    );
    bad_id.assert_invalid("id");
    huge_id.assert_invalid("id");
}

#[tokio::test]
async fn collection_routes_answer_with_and_without_a_trailing_slash() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let with = server.get("/api/v1/transactions/", &ada.token).await;
    let without = server.get("/api/v1/transactions", &ada.token).await;

    assert_eq!((with.status, without.status), (200, 200));
}

#[tokio::test]
async fn a_database_too_busy_to_hand_out_a_connection_is_503_never_a_pass() {
    let settings = [
        ("TALLY_DB_MAX_CONNECTIONS", "1"),
        ("TALLY_DB_MIN_CONNECTIONS", "1"),
        ("TALLY_DB_ACQUIRE_TIMEOUT_MS", "300"),
        ("TALLY_DB_STATEMENT_TIMEOUT_MS", "3000"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    let ada = server.user("ada@example.com").await;

    // The test's own connection holds the balances, so a deposit waits on the server's
    // only connection, and the next request cannot get one in time.
    let blocker = server.db.lock_table("balances").await;
    let stuck = server.deposit(&ada, "1.00", "USD");
    let refused = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let reply = server.get("/api/v1/users/me", &ada.token).await;
        blocker.close().await.expect("release the lock");
        reply
    };
    let (stuck, refused) = tokio::join!(stuck, refused);
    let after = server.get("/api/v1/users/me", &ada.token).await;

    refused.assert_problem(503, "service_unavailable");
    assert!(!refused.text.contains("ada@example.com"));
    assert_eq!(after.status, 200, "{}", after.text);
    // The deposit that waited either went through whole or left no trace.
    let (rows, balance) = (
        server.db.transaction_count().await,
        server.balance(&ada, "USD").await,
    );
    match stuck.status {
        201 => assert_eq!((rows, balance.as_deref()), (1, Some("1.00"))),
        503 => assert_eq!((rows, balance.as_deref()), (0, None)),
        other => panic!("the waiting deposit answered {other}: {}", stuck.text),
    }
}

#[tokio::test]
#[cfg_attr(
    not(database_server),
    ignore = "needs TEST_DATABASE_URL naming PostgreSQL or MariaDB"
)]
async fn a_user_load_that_times_out_on_a_database_server_is_503() {
    let db = TestDb::fresh().await;
    let server = TestServer::spawn_with(db, &[("TALLY_DB_STATEMENT_TIMEOUT_MS", "300")]).await;
    let ada = server.user("ada@example.com").await;

    let blocker = server.db.lock_table("users").await;
    let reply = server.get("/api/v1/users/me", &ada.token).await;
    blocker.close().await.expect("close");
    let after = server.get("/api/v1/users/me", &ada.token).await;

    reply.assert_problem(503, "service_unavailable");
    assert_eq!(after.status, 200, "{}", after.text);
}

#[tokio::test]
#[cfg_attr(
    not(database_server),
    ignore = "needs TEST_DATABASE_URL naming PostgreSQL or MariaDB"
)]
async fn logins_refused_by_an_outage_do_not_count_toward_the_lockout() {
    let settings = [
        ("TALLY_DB_STATEMENT_TIMEOUT_MS", "300"),
        ("TALLY_LOGIN_MAX_FAILURES", "2"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    server.user("ada@example.com").await;

    let blocker = server.db.lock_table("users").await;
    let mut during = Vec::new();
    for _ in 0..3 {
        during.push(
            server
                .login("ada@example.com", crate::common::PASSWORD)
                .await,
        );
    }
    blocker.close().await.expect("release the lock");
    let after = server
        .login("ada@example.com", crate::common::PASSWORD)
        .await;

    for reply in during {
        reply.assert_problem(503, "service_unavailable");
    }
    assert_eq!(after.status, 200, "{}", after.text);
}
