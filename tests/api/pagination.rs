use std::collections::HashSet;

use crate::common::{TestServer, TestUser};

/// Walks every page of the user's history with `limit` and returns the ids in order.
async fn walk(server: &TestServer, user: &TestUser, limit: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut path = format!("/api/v1/transactions?limit={limit}");
    loop {
        let page = server.get(&path, &user.token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        ids.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|t| t["id"].as_i64()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/transactions?limit={limit}&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn rows_with_the_same_timestamp_page_without_repeats_or_gaps() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    for _ in 0..11 {
        server.deposit(&ada, "1.00", "USD").await;
    }
    // The inner select is wrapped once more because MySQL will not read the table it updates.
    let same_time = "UPDATE transactions SET created_at = (SELECT created_at FROM \
                     (SELECT MIN(created_at) AS created_at FROM transactions) AS earliest)";
    server.db.execute(same_time).await;

    let ids = walk(&server, &ada, 3).await;

    let expected: Vec<i64> = (1..=11).rev().collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn pages_are_newest_first_and_filter_by_kind_and_currency() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "5.00", "USD").await;
    server.deposit(&ada, "5", "JPY").await;
    let withdrawal = serde_json::json!({"kind": "withdrawal", "amount": "1.00", "currency": "USD"});
    server
        .post("/api/v1/transactions", &ada.token, withdrawal)
        .await;

    let all = server.get("/api/v1/transactions", &ada.token).await;
    let usd = server
        .get("/api/v1/transactions?currency=USD", &ada.token)
        .await;
    let deposits = server
        .get("/api/v1/transactions?kind=deposit", &ada.token)
        .await;

    let kinds: Vec<&str> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["withdrawal", "deposit", "deposit"]);
    assert_eq!(usd.body["items"].as_array().expect("items").len(), 2);
    assert_eq!(deposits.body["items"].as_array().expect("items").len(), 2);
}

#[tokio::test]
async fn walking_pages_while_rows_are_inserted_skips_and_repeats_nothing() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    for _ in 0..25 {
        server.deposit(&ada, "1.00", "USD").await;
    }
    let existing: HashSet<i64> = (1..=25).collect();

    let writer = async {
        for _ in 0..15 {
            server.deposit(&ada, "1.00", "USD").await;
        }
    };
    let (ids, ()) = tokio::join!(walk(&server, &ada, 4), writer);

    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a row repeated: {ids:?}");
    assert!(
        existing.is_subset(&unique),
        "a row that existed at the start was skipped"
    );
}

#[tokio::test]
async fn limits_and_cursors_are_validated() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "cursor=not-a-cursor",
        "kind=gift",
        "currency=XYZ",
    ] {
        let field = query.split('=').next().expect("name");
        server
            .get(&format!("/api/v1/transactions?{query}"), &ada.token)
            .await
            .assert_invalid(field);
    }
}
