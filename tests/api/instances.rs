use std::time::Duration;

use futures::future::join_all;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::json;

use crate::common::{PASSWORD, TestDb, TestServer};

#[tokio::test]
async fn bans_through_one_instance_or_in_sql_hold_on_the_other_at_its_next_request() {
    let first = TestServer::spawn().await;
    let second = TestServer::spawn_with(first.db.shared(), &[]).await;
    let admin = first.admin("root@example.com").await;
    let ada = first.user("ada@example.com").await;
    let bob = first.user("bob@example.com").await;
    assert_eq!(second.get("/api/v1/users/me", &ada.token).await.status, 200);

    let ban_path = format!("/api/v1/admin/users/{}/ban", ada.id);
    first
        .post(&ban_path, &admin.token, json!({"reason": "api ban"}))
        .await;
    let ada_on_second = second.get("/api/v1/users/me", &ada.token).await;
    let sql_ban = format!(
        "UPDATE users SET is_active = false, ban_reason = 'sql ban' WHERE id = {}",
        bob.id
    );
    first.db.execute(&sql_ban).await;
    let bob_on_first = first.get("/api/v1/users/me", &bob.token).await;
    let bob_on_second = second.get("/api/v1/users/me", &bob.token).await;

    ada_on_second.assert_problem(403, "user_banned");
    assert_eq!(ada_on_second.body["ban_reason"], "api ban");
    for reply in [bob_on_first, bob_on_second] {
        reply.assert_problem(403, "user_banned");
        assert_eq!(reply.body["ban_reason"], "sql ban");
    }
}

#[tokio::test]
async fn two_instances_starting_together_on_an_empty_database_both_come_up() {
    let db = TestDb::fresh().await;
    let shared = db.shared();

    let (first, second) = tokio::join!(
        TestServer::spawn_with(db, &[]),
        TestServer::spawn_with(shared, &[])
    );

    let applied = first
        .db
        .query_i64("SELECT COUNT(*) FROM seaql_migrations")
        .await;
    let known = i64::try_from(Migrator::migrations().len()).expect("a few migrations");
    assert_eq!(applied, known);
    let ada = first.user("ada@example.com").await;
    assert_eq!(second.get("/api/v1/users/me", &ada.token).await.status, 200);
    let login = second.login("ada@example.com", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
}

#[tokio::test]
async fn a_pool_of_one_connection_still_serves_authenticated_writes() {
    let settings = [
        ("TALLY_DB_MAX_CONNECTIONS", "1"),
        ("TALLY_DB_MIN_CONNECTIONS", "1"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;

    let deposits = join_all((0..5).map(|_| server.deposit(&ada, "2.00", "USD"))).await;
    let transfer =
        json!({"kind": "transfer", "amount": "1.00", "currency": "USD", "to_user_id": bob.id});
    let sent = server
        .post("/api/v1/transactions/", &ada.token, transfer)
        .await;

    assert!(
        deposits.iter().all(|r| r.status == 201),
        "{:?}",
        deposits.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(server.balance(&ada, "USD").await.as_deref(), Some("9.00"));
}

#[tokio::test]
async fn an_exhausted_pool_answers_200_or_503_quickly_and_never_500() {
    let settings = [
        ("TALLY_DB_MAX_CONNECTIONS", "2"),
        ("TALLY_DB_ACQUIRE_TIMEOUT_MS", "300"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    let ada = server.user("ada@example.com").await;
    let (server, ada) = (&server, &ada);

    let requests = (0..50).map(|i| async move {
        let reply = if i % 2 == 0 {
            server.get("/api/v1/transactions/", &ada.token).await
        } else {
            server.deposit(ada, "1.00", "USD").await
        };
        reply.status
    });
    // A bound against hanging, far above the acquire timeout, not a speed target.
    let statuses = tokio::time::timeout(Duration::from_secs(30), join_all(requests))
        .await
        .expect("every request was answered");

    let unexpected: Vec<u16> = statuses
        .iter()
        .copied()
        .filter(|s| ![200, 201, 503].contains(s))
        .collect();
    assert!(unexpected.is_empty(), "{statuses:?}");
}

#[tokio::test]
#[cfg_attr(
    not(database_server),
    ignore = "needs TEST_DATABASE_URL naming PostgreSQL or MariaDB"
)]
async fn connections_killed_by_the_database_are_replaced_without_a_restart() {
    let db = TestDb::fresh().await;
    let server = TestServer::spawn_with(db, &[("TALLY_DB_MIN_CONNECTIONS", "3")]).await;
    let ada = server.user("ada@example.com").await;
    join_all((0..6).map(|_| server.get("/api/v1/users/me", &ada.token))).await;

    kill_server_connections(&server.db).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(server.get("/api/v1/transactions/", &ada.token).await.status);
    }

    let unavailable = statuses.iter().filter(|&&s| s == 503).count();
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 503),
        "{statuses:?}"
    );
    assert!(unavailable <= 1, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
}

/// Ends every session on the test's database but the caller's, as an operator or a
/// failover would.
async fn kill_server_connections(db: &TestDb) {
    let admin = db.connect_single().await;
    match db.backend {
        DbBackend::Postgres => {
            let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                       WHERE datname = current_database() AND pid <> pg_backend_pid()";
            admin.execute_unprepared(sql).await.expect("terminate");
        }
        _ => {
            let sql = "SELECT CAST(id AS SIGNED) FROM information_schema.processlist \
                       WHERE db = DATABASE() AND id <> CONNECTION_ID()";
            let rows = admin
                .query_all_raw(sea_orm::Statement::from_string(DbBackend::MySql, sql))
                .await
                .expect("list sessions");
            for row in rows {
                let id: i64 = row.try_get_by_index(0).expect("id");
                admin
                    .execute_unprepared(&format!("KILL CONNECTION {id}"))
                    .await
                    .expect("kill");
            }
        }
    }
    admin.close().await.expect("close");
}

#[tokio::test]
async fn a_request_cancelled_inside_a_transaction_leaves_the_connection_clean() {
    let settings = [
        ("TALLY_DB_MAX_CONNECTIONS", "1"),
        ("TALLY_DB_MIN_CONNECTIONS", "1"),
    ];
    let server = TestServer::spawn_with(TestDb::fresh().await, &settings).await;
    let ada = server.user("ada@example.com").await;
    server.deposit(&ada, "10.00", "USD").await;

    // The deposit waits on the test's lock inside its database transaction, on the server's
    // only connection, when its client gives up and closes the connection.
    let blocker = server.db.lock_table("balances").await;
    let abandoned = tokio::time::timeout(
        Duration::from_millis(500),
        server.deposit(&ada, "1.00", "USD"),
    )
    .await;
    blocker.close().await.expect("release the lock");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let next = server.deposit(&ada, "2.00", "USD").await;

    assert!(
        abandoned.is_err(),
        "the deposit should still have been waiting"
    );
    assert_eq!(next.status, 201, "{}", next.text);
    let balance = server.balance(&ada, "USD").await;
    let rows = server.db.transaction_count().await;
    assert!(
        matches!(
            (balance.as_deref(), rows),
            (Some("12.00"), 2) | (Some("13.00"), 3)
        ),
        "half-written or lost deposit: balance {balance:?}, {rows} journal rows"
    );
}
