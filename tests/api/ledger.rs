use sea_orm::DbBackend;
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn ten_deposits_of_ten_cents_make_exactly_one_dollar() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    for _ in 0..10 {
        assert_eq!(server.deposit(&ada, "0.10", "USD").await.status, 201);
    }

    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("1.00"));
    let stored = server
        .db
        .query_i64("SELECT amount FROM balances WHERE currency = 'USD'")
        .await;
    assert_eq!(stored, 100);
}

#[tokio::test]
async fn amounts_are_integer_columns_never_floats() {
    let server = TestServer::spawn().await;

    for table in ["transactions", "balances"] {
        let sql = match server.db.backend {
            DbBackend::Sqlite => {
                format!("SELECT type FROM pragma_table_info('{table}') WHERE name = 'amount'")
            }
            _ => format!(
                "SELECT CAST(data_type AS CHAR(64)) FROM information_schema.columns \
                 WHERE table_name = '{table}' AND column_name = 'amount' \
                 AND table_schema = {}",
                if server.db.backend == DbBackend::Postgres {
                    "current_schema()"
                } else {
                    "DATABASE()"
                }
            ),
        };
        let column_type = server.db.query_one::<String>(&sql).await.to_lowercase();

        assert!(
            column_type.contains("int"),
            "{table}.amount is {column_type}"
        );
    }
}

#[tokio::test]
async fn amounts_carry_each_currency_s_full_fraction_digits() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let usd = server.deposit(&ada, "12.5", "USD").await;
    let jpy = server.deposit(&ada, "5", "JPY").await;
    let btc = server.deposit(&ada, "0.00000001", "BTC").await;

    assert_eq!(usd.body["amount"], "12.50");
    assert_eq!(jpy.body["amount"], "5");
    assert_eq!(btc.body["amount"], "0.00000001");
    let balances = server.get("/api/v1/balances", &ada.token).await;
    let currencies: Vec<&str> = balances.body["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .filter_map(|b| b["currency"].as_str())
        .collect();
    assert_eq!(currencies, ["BTC", "JPY", "USD"]);
}

#[tokio::test]
async fn a_withdrawal_beyond_the_balance_is_refused_and_writes_nothing() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "10.00", "USD").await;

    let body = json!({ "kind": "withdrawal", "amount": "10.01", "currency": "USD" });
    let refused = server.post("/api/v1/transactions/", &ada.token, body).await;
    let in_other_currency = json!({ "kind": "withdrawal", "amount": "1", "currency": "EUR" });
    let no_balance = server
        .post("/api/v1/transactions/", &ada.token, in_other_currency)
        .await;

    refused.assert_problem(409, "insufficient_funds");
    no_balance.assert_problem(409, "insufficient_funds");
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("10.00"));
    assert_eq!(server.db.transaction_count().await, 1);
}

#[tokio::test]
async fn a_transfer_writes_both_sides_and_moves_the_money() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "20.00", "EUR").await;

    let body = json!({
        "kind": "transfer", "amount": "7.25", "currency": "EUR", "to_user_id": bob.id,
        "description": "lunch",
    });
    let sent = server.post("/api/v1/transactions/", &ada.token, body).await;
    let received = server
        .get("/api/v1/transactions/?kind=transfer_in", &bob.token)
        .await;

    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.body["kind"], "transfer_out");
    assert_eq!(sent.body["counterparty_id"], bob.id);
    assert_eq!(sent.body["status"], "completed");
    let incoming = &received.body["items"][0];
    assert_eq!(incoming["kind"], "transfer_in");
    assert_eq!(incoming["amount"], "7.25");
    assert_eq!(incoming["counterparty_id"], ada.id);
    assert_eq!(incoming["description"], "lunch");
    assert_eq!(server.balance(&ada, "EUR").await.as_deref(), Some("12.75"));
    assert_eq!(server.balance(&bob, "EUR").await.as_deref(), Some("7.25"));
}

#[tokio::test]
async fn transfers_to_oneself_to_nobody_or_to_a_banned_user_are_refused() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "20.00", "USD").await;
    server
        .db
        .execute(&format!(
            "UPDATE users SET is_active = false WHERE id = {}",
            bob.id
        ))
        .await;

    for to in [ada.id, 987_654, bob.id] {
        let body =
            json!({ "kind": "transfer", "amount": "1.00", "currency": "USD", "to_user_id": to });
        server
            .post("/api/v1/transactions/", &ada.token, body)
            .await
            .assert_invalid("to_user_id");
    }

    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("20.00"));
    assert_eq!(server.db.transaction_count().await, 1);
}

#[tokio::test]
async fn a_balance_that_would_overflow_is_refused_not_wrapped() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    assert_eq!(
        server
            .deposit(&ada, "92233720368547758.07", "USD")
            .await
            .status,
        201
    );

    let more = server.deposit(&ada, "0.01", "USD").await;

    more.assert_invalid("amount");
    assert_eq!(
        server.balance(&ada, "USD").await.as_deref(),
        Some("92233720368547758.07")
    );
}

#[tokio::test]
async fn another_user_s_transaction_is_not_found() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    let deposit = server.deposit(&ada, "1.00", "USD").await;
    let id = deposit.body["id"].as_i64().expect("id");

    let own = server
        .get(&format!("/api/v1/transactions/{id}"), &ada.token)
        .await;
    let foreign = server
        .get(&format!("/api/v1/transactions/{id}"), &bob.token)
        .await;

    assert_eq!(
        own.body, deposit.body,
        "a read gives back exactly what the write returned"
    );
    foreign.assert_problem(404, "not_found");
}

#[tokio::test]
async fn timestamps_have_exactly_six_fraction_digits_in_utc() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let deposit = server.deposit(&ada, "1.00", "USD").await;

    let created_at = deposit.body["created_at"].as_str().expect("created_at");
    let (_, fraction) = created_at.split_once('.').expect("a fraction");
    assert_eq!(fraction.len(), 7, "{created_at}");
    assert!(fraction.ends_with('Z'), "{created_at}");
}

#[tokio::test]
async fn bad_amounts_and_currencies_are_named_in_the_422() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    let cases = [
        (
            r#"{"kind": "deposit", "amount": "1.234", "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "1.5", "currency": "JPY"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "01.00", "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "-1", "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "1e3", "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "0", "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": 12.5, "currency": "USD"}"#,
            "amount",
        ),
        (
            r#"{"kind": "deposit", "amount": "1.00", "currency": "XYZ"}"#,
            "currency",
        ),
        (
            r#"{"kind": "gift", "amount": "1.00", "currency": "USD"}"#,
            "kind",
        ),
        (
            r#"{"kind": "transfer", "amount": "1.00", "currency": "USD"}"#,
            "to_user_id",
        ),
        (
            r#"{"kind": "deposit", "amount": "1", "currency": "USD", "to_user_id": 1}"#,
            "to_user_id",
        ),
        (
            r#"{"kind": "deposit", "amount": "1.00", "currency": "USD", "extra": 1}"#,
            "extra",
        ),
        (r#"{"kind": "deposit", "currency": "USD"}"#, "amount"),
    ];
    for (body, field) in cases {
        let json: serde_json::Value = serde_json::from_str(body).expect("valid JSON");
        let reply = server.post("/api/v1/transactions/", &ada.token, json).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text);
        reply.assert_invalid(field);
    }

    assert_eq!(server.db.transaction_count().await, 0);
}
