use futures::future::join_all;
use serde_json::json;

use crate::common::TestServer;

async fn concurrent_reads_with_one_token_all_succeed(count: usize) {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "1.00", "USD").await;

    let replies =
        join_all((0..count).map(|_| server.get("/api/v1/transactions/", &ada.token))).await;

    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
}

#[tokio::test]
async fn ten_concurrent_requests_with_one_token_all_succeed() {
    concurrent_reads_with_one_token_all_succeed(10).await;
}

#[tokio::test]
async fn two_hundred_concurrent_requests_with_one_token_all_succeed() {
    concurrent_reads_with_one_token_all_succeed(200).await;
}

#[tokio::test]
async fn parallel_withdrawals_never_overdraw_a_balance() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "100.00", "USD").await;

    let body = json!({ "kind": "withdrawal", "amount": "10.00", "currency": "USD" });
    let replies =
        join_all((0..20).map(|_| server.post("/api/v1/transactions/", &ada.token, body.clone())))
            .await;

    let succeeded = replies.iter().filter(|r| r.status == 201).count();
    let refused = replies
        .iter()
        .filter(|r| r.body["code"] == "insufficient_funds")
        .count();
    assert_eq!(
        (succeeded, refused),
        (10, 10),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("0.00"));
    let withdrawals = server
        .db
        .query_i64("SELECT COUNT(*) FROM transactions WHERE kind = 'withdrawal'")
        .await;
    assert_eq!(withdrawals, 10);
}

#[tokio::test]
async fn sixty_mixed_concurrent_writes_and_reads_all_succeed_with_exact_totals() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "100.00", "USD").await;
    server.deposit(&bob, "100.00", "USD").await;

    let writes = (0..60).map(|i| {
        let user = if i % 2 == 0 { &ada } else { &bob };
        let kind = if i % 4 < 2 { "deposit" } else { "withdrawal" };
        let body = json!({ "kind": kind, "amount": "1.25", "currency": "USD" });
        server.post("/api/v1/transactions/", &user.token, body)
    });
    let reads = (0..30).map(|_| server.get("/api/v1/balances", &ada.token));
    let (written, read) = tokio::join!(join_all(writes), join_all(reads));

    let bad: Vec<String> = written
        .iter()
        .filter(|r| r.status != 201)
        .chain(read.iter().filter(|r| r.status != 200))
        .map(|r| r.text.clone())
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("100.00"));
    assert_eq!(server.balance(&bob, "USD").await.as_deref(), Some("100.00"));
    assert!(!server.logs().to_lowercase().contains("database is locked"));
}

#[tokio::test]
async fn opposite_transfers_at_once_neither_deadlock_nor_lose_money() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "50.00", "USD").await;
    server.deposit(&bob, "50.00", "USD").await;

    let transfers = (0..30).map(|i| {
        let (from, to) = if i % 2 == 0 {
            (&ada, &bob)
        } else {
            (&bob, &ada)
        };
        let body =
            json!({ "kind": "transfer", "amount": "1.00", "currency": "USD", "to_user_id": to.id });
        server.post("/api/v1/transactions/", &from.token, body)
    });
    let replies = join_all(transfers).await;

    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("50.00"));
    assert_eq!(server.balance(&bob, "USD").await.as_deref(), Some("50.00"));
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let server = TestServer::spawn().await;

    let replies = join_all((0..8).map(|_| server.register("same@example.com"))).await;

    let created = replies.iter().filter(|r| r.status == 201).count();
    let taken = replies
        .iter()
        .filter(|r| r.body["code"] == "email_taken")
        .count();
    assert_eq!((created, taken), (1, 7));
    assert_eq!(server.db.query_i64("SELECT COUNT(*) FROM users").await, 1);
}
