use futures::future::join_all;
use serde_json::{Value, json};

use crate::common::{Reply, TestServer, TestUser};

async fn post_with_key(server: &TestServer, user: &TestUser, key: &str, body: &Value) -> Reply {
    let response = server
        .client
        .post(server.url("/api/v1/transactions/"))
        .bearer_auth(&user.token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("sent");
    Reply::from(response).await
}

fn deposit(amount: &str) -> Value {
    json!({ "kind": "deposit", "amount": amount, "currency": "USD" })
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_answers_the_first_result_and_writes_nothing() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let first = post_with_key(&server, &ada, "order-1", &deposit("12.50")).await;
    let retry = post_with_key(&server, &ada, "order-1", &deposit("12.5")).await;

    assert_eq!((first.status, retry.status), (201, 201), "{}", retry.text);
    assert_eq!(first.body, retry.body);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(server.db.transaction_count().await, 1);
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("12.50"));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_conflict_and_writes_nothing() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    post_with_key(&server, &ada, "order-1", &deposit("12.50")).await;

    let other = post_with_key(&server, &ada, "order-1", &deposit("99.00")).await;

    other.assert_problem(409, "idempotency_conflict");
    assert_eq!(server.db.transaction_count().await, 1);
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("12.50"));
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;

    let by_ada = post_with_key(&server, &ada, "shared-key", &deposit("1.00")).await;
    let by_bob = post_with_key(&server, &bob, "shared-key", &deposit("2.00")).await;

    assert_eq!((by_ada.status, by_bob.status), (201, 201));
    assert_ne!(by_ada.body["id"], by_bob.body["id"]);
    assert_eq!(server.db.transaction_count().await, 2);
}

#[tokio::test]
async fn concurrent_retries_of_one_withdrawal_take_the_money_once() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "10.00", "USD").await;
    let withdrawal = json!({ "kind": "withdrawal", "amount": "10.00", "currency": "USD" });

    let replies =
        join_all((0..10).map(|_| post_with_key(&server, &ada, "pay-rent", &withdrawal))).await;

    let texts: Vec<&str> = replies.iter().map(|r| r.text.as_str()).collect();
    assert!(replies.iter().all(|r| r.status == 201), "{texts:?}");
    assert!(
        replies
            .iter()
            .all(|r| r.body["id"] == replies[0].body["id"]),
        "{texts:?}"
    );
    let withdrawals = "SELECT COUNT(*) FROM transactions WHERE kind = 'withdrawal'";
    assert_eq!(server.db.query_i64(withdrawals).await, 1);
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("0.00"));
}

#[tokio::test]
async fn a_failed_request_does_not_keep_its_key() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let withdrawal = json!({ "kind": "withdrawal", "amount": "5.00", "currency": "USD" });

    let refused = post_with_key(&server, &ada, "try-again", &withdrawal).await;
    server.deposit(&ada, "5.00", "USD").await;
    let retried = post_with_key(&server, &ada, "try-again", &withdrawal).await;

    refused.assert_problem(409, "insufficient_funds");
    assert_eq!(retried.status, 201, "{}", retried.text);
    assert_eq!(retried.header("idempotent-replayed"), Some("false"));
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    for key in ["", "has space", &"k".repeat(256)] {
        post_with_key(&server, &ada, key, &deposit("1.00"))
            .await
            .assert_invalid("Idempotency-Key");
    }

    assert_eq!(server.db.transaction_count().await, 0);
}

#[tokio::test]
async fn keys_that_differ_only_in_case_are_different_keys() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let lower = post_with_key(&server, &ada, "k1", &deposit("10.00")).await;
    let upper = post_with_key(&server, &ada, "K1", &deposit("10.00")).await;

    assert_eq!((lower.status, upper.status), (201, 201), "{}", upper.text);
    assert_eq!(upper.header("idempotent-replayed"), Some("false"));
    assert_eq!(server.db.transaction_count().await, 2);
}
