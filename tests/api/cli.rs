use std::process::{Command, Output};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};

use crate::common::{PASSWORD, TestDb, TestServer, tally_command};

/// Runs `tally ARGS` on the server's database from the server's working directory.
fn tally(server: &TestServer, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command: Command = tally_command(&server.db, server.workdir());
    command.args(args).envs(env.iter().copied());
    command.output().expect("run tally")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn create_admin_makes_an_admin_who_can_log_in() {
    let server = TestServer::spawn().await;

    let created = tally(
        &server,
        &["users", "create-admin", "--email", "Root@Example.com"],
        &[("TALLY_ADMIN_PASSWORD", PASSWORD)],
    );
    let again = tally(
        &server,
        &["users", "create-admin", "--email", "root@example.com"],
        &[("TALLY_ADMIN_PASSWORD", PASSWORD)],
    );

    assert!(created.status.success(), "{}", stderr(&created));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    let login = server.login("root@example.com", PASSWORD).await;
    let token = login.body["access_token"].as_str().expect("token");
    assert_eq!(
        server.get("/api/v1/users/me", token).await.body["is_admin"],
        true
    );
}

#[tokio::test]
async fn cli_ban_and_unban_take_effect_on_the_next_request() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let id = ada.id.to_string();

    let banned = tally(&server, &["users", "ban", &id, "--reason", "fraud"], &[]);
    let while_banned = server.get("/api/v1/users/me", &ada.token).await;
    let unbanned = tally(&server, &["users", "unban", &id], &[]);
    let with_old_token = server.get("/api/v1/users/me", &ada.token).await;

    assert!(banned.status.success(), "{}", stderr(&banned));
    while_banned.assert_problem(403, "user_banned");
    assert_eq!(while_banned.body["ban_reason"], "fraud");
    assert!(unbanned.status.success(), "{}", stderr(&unbanned));
    with_old_token.assert_problem(401, "token_revoked");
    assert_eq!(server.login("ada@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn cli_promote_and_demote_change_the_admin_right() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let id = ada.id.to_string();

    let promoted = tally(&server, &["users", "promote", &id], &[]);
    let as_admin = server.get("/api/v1/admin/users", &ada.token).await;
    let demoted = tally(&server, &["users", "demote", &id], &[]);
    let as_user = server.get("/api/v1/admin/users", &ada.token).await;

    assert!(promoted.status.success() && demoted.status.success());
    assert_eq!(as_admin.status, 200, "{}", as_admin.text);
    as_user.assert_problem(403, "forbidden");
}

#[tokio::test]
async fn cli_commands_on_an_unknown_user_fail_with_a_message() {
    let server = TestServer::spawn().await;

    for args in [
        &["users", "ban", "4242", "--reason", "x"][..],
        &["users", "unban", "4242"],
        &["users", "promote", "4242"],
    ] {
        let output = tally(&server, args, &[]);

        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&output).contains("no user has this id"),
            "{}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn migrations_go_down_and_up_again_and_report_their_status() {
    let server = TestServer::spawn().await;

    let first_down = tally(&server, &["migrate", "down"], &[]);
    let second_down = tally(&server, &["migrate", "down"], &[]);
    let up = tally(&server, &["migrate", "up"], &[]);
    let status = tally(&server, &["migrate", "status"], &[]);

    for output in [&first_down, &second_down, &up, &status] {
        assert!(output.status.success(), "{}", stderr(output));
    }
    assert_eq!(server.db.query_i64("SELECT COUNT(*) FROM users").await, 0);
    let ada = server.user("ada@example.com").await;
    assert_eq!(server.deposit(&ada, "1.00", "USD").await.status, 201);
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_zero() {
    let mut server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    // A lock held by the test keeps a deposit waiting inside the server while it is told to
    // stop; the lock is let go only after the signal.
    let blocker = server.db.lock_table("balances").await;
    let in_flight = server.deposit(&ada, "1.00", "USD");
    let stop = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.send_sigterm();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let fresh_client = reqwest::Client::new();
        let refused = fresh_client.get(server.url("/health/live")).send().await;
        blocker.close().await.expect("release the lock");
        refused
    };
    let (finished, refused) = tokio::join!(in_flight, stop);
    let status = server.wait_for_exit();

    assert_eq!(finished.status, 201, "{}", finished.text);
    assert!(
        refused.is_err(),
        "a new connection was served during shutdown"
    );
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(server.db.transaction_count().await, 1);
}

#[tokio::test]
async fn bad_settings_stop_the_start_with_a_message() {
    let db = TestDb::fresh().await;
    let workdir = tempfile::tempdir().expect("dir");

    for (name, value, expected) in [
        ("JWT_SECRET", "short", "at least 32 bytes"),
        ("TALLY_CURRENCIES", "usd:2", "upper-case"),
        ("TALLY_BIND", "not an address", "invalid"),
        ("TALLY_DB_MAX_CONNECTIONS", "0", "invalid"),
        ("RUST_LOG", "foo=notalevel", "RUST_LOG"),
        ("DATABASE_URL", "nonsense://x", "DATABASE_URL"),
    ] {
        let output = tally_command(&db, workdir.path())
            .arg("serve")
            .env("TALLY_BIND", "127.0.0.1:0")
            .env(name, value)
            .output()
            .expect("run tally");

        assert!(!output.status.success(), "{name}={value} started");
        let message = stderr(&output);
        assert!(message.contains(expected), "{name}={value}: {message}");
    }
}

#[tokio::test]
async fn migrate_status_prints_to_standard_output_whatever_the_log_level() {
    let server = TestServer::spawn().await;

    let status = tally(&server, &["migrate", "status"], &[("RUST_LOG", "warn")]);

    let printed = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", stderr(&status));
    for migration in Migrator::migrations() {
        let line = format!("{}: applied", migration.name());
        assert!(printed.contains(&line), "{line} not in {printed}");
    }
}

#[tokio::test]
async fn a_cli_ban_needs_a_real_reason() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let id = ada.id.to_string();

    let blank = tally(&server, &["users", "ban", &id, "--reason", "  "], &[]);
    let long = tally(
        &server,
        &["users", "ban", &id, "--reason", &"x".repeat(501)],
        &[],
    );

    assert!(!blank.status.success() && !long.status.success());
    assert!(stderr(&blank).contains("reason"), "{}", stderr(&blank));
    assert_eq!(server.get("/api/v1/users/me", &ada.token).await.status, 200);
}

#[tokio::test]
async fn cli_changes_are_audited_with_no_actor() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;

    let banned = tally(
        &server,
        &["users", "ban", &ada.id.to_string(), "--reason", "fraud"],
        &[],
    );
    let audit = server.get("/api/v1/admin/audit", &admin.token).await;

    assert!(banned.status.success(), "{}", stderr(&banned));
    let entry = &audit.body["items"][0];
    assert_eq!(entry["action"], "ban");
    assert!(entry["actor_id"].is_null());
    assert_eq!(entry["target_user_id"], ada.id);
    assert_eq!(entry["reason"], "fraud");
}

#[tokio::test]
async fn migrate_fresh_empties_a_database_that_holds_journal_rows() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    server.deposit(&ada, "5.00", "USD").await;
    let transfer = serde_json::json!({
        "kind": "transfer", "amount": "1.00", "currency": "USD", "to_user_id": bob.id,
    });
    let sent = server
        .post("/api/v1/transactions/", &ada.token, transfer)
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);

    let fresh = tally(&server, &["migrate", "fresh"], &[]);

    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert_eq!(server.db.query_i64("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(server.db.transaction_count().await, 0);
    assert_eq!(server.register("ada@example.com").await.status, 201);
}

#[tokio::test]
async fn the_first_admin_can_be_created_before_the_server_ever_ran() {
    let db = TestDb::fresh().await;
    let workdir = tempfile::tempdir().expect("dir");

    let created = tally_command(&db, workdir.path())
        .args(["users", "create-admin", "--email", "first@example.com"])
        .env("TALLY_ADMIN_PASSWORD", PASSWORD)
        .output()
        .expect("run tally");

    assert!(created.status.success(), "{}", stderr(&created));
    let admins = db
        .query_i64("SELECT COUNT(*) FROM users WHERE is_admin = true")
        .await;
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn a_sqlite_url_without_a_mode_creates_its_file() {
    let db = TestDb::fresh().await;
    let workdir = tempfile::tempdir().expect("dir");
    let file = workdir.path().join("plain.db");

    let status = tally_command(&db, workdir.path())
        .args(["migrate", "status"])
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .output()
        .expect("run tally");

    assert!(status.status.success(), "{}", stderr(&status));
    assert!(file.exists());
}
