use serde_json::json;

use crate::common::{PASSWORD, TestServer};

#[tokio::test]
async fn a_ban_made_in_sql_holds_on_the_very_next_request_and_lifting_it_restores_access() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    assert_eq!(
        server.get("/api/v1/transactions/", &ada.token).await.status,
        200
    );

    let ban = format!(
        "UPDATE users SET is_active = false, ban_reason = 'chargeback fraud' WHERE id = {}",
        ada.id
    );
    server.db.execute(&ban).await;
    let banned = server.get("/api/v1/transactions/", &ada.token).await;
    server
        .db
        .execute(&format!(
            "UPDATE users SET is_active = true WHERE id = {}",
            ada.id
        ))
        .await;
    let restored = server.get("/api/v1/transactions/", &ada.token).await;

    banned.assert_problem(403, "user_banned");
    assert_eq!(banned.body["ban_reason"], "chargeback fraud");
    assert_eq!(restored.status, 200, "{}", restored.text);
}

#[tokio::test]
async fn a_user_deleted_in_sql_gets_user_not_found() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;

    server
        .db
        .execute(&format!("DELETE FROM users WHERE id = {}", ada.id))
        .await;
    let reply = server.get("/api/v1/users/me", &ada.token).await;

    reply.assert_problem(401, "user_not_found");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn an_admin_ban_revokes_earlier_tokens_so_an_unbanned_user_logs_in_again() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;

    let ban_path = format!("/api/v1/admin/users/{}/ban", ada.id);
    let banned = server
        .post(&ban_path, &admin.token, json!({"reason": "spam"}))
        .await;
    let while_banned = server.get("/api/v1/users/me", &ada.token).await;
    let login_while_banned = server.login("ada@example.com", PASSWORD).await;
    let unban_path = format!("/api/v1/admin/users/{}/unban", ada.id);
    let unbanned = server.post(&unban_path, &admin.token, json!({})).await;
    let old_token = server.get("/api/v1/users/me", &ada.token).await;
    let fresh_login = server.login("ada@example.com", PASSWORD).await;

    assert_eq!(banned.status, 200, "{}", banned.text);
    assert_eq!(banned.body["is_active"], false);
    assert_eq!(banned.body["ban_reason"], "spam");
    assert!(banned.body["banned_at"].is_string());
    while_banned.assert_problem(403, "user_banned");
    login_while_banned.assert_problem(403, "user_banned");
    assert_eq!(login_while_banned.body["ban_reason"], "spam");
    assert_eq!(unbanned.body["is_active"], true);
    assert!(unbanned.body["ban_reason"].is_null());
    old_token.assert_problem(401, "token_revoked");
    let token = fresh_login.body["access_token"].as_str().expect("token");
    assert_eq!(server.get("/api/v1/users/me", token).await.status, 200);
}

#[tokio::test]
async fn admin_rights_are_read_from_the_database_not_the_token() {
    let server = TestServer::spawn().await;
    let ada = server.user("ada@example.com").await;
    let before = server.get("/api/v1/admin/users", &ada.token).await;

    server
        .db
        .execute(&format!(
            "UPDATE users SET is_admin = true WHERE id = {}",
            ada.id
        ))
        .await;
    let after = server.get("/api/v1/admin/users", &ada.token).await;

    before.assert_problem(403, "forbidden");
    assert_eq!(after.status, 200, "{}", after.text);
}

#[tokio::test]
async fn an_admin_cannot_ban_or_demote_itself() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;

    let ban = server
        .post(
            &format!("/api/v1/admin/users/{}/ban", admin.id),
            &admin.token,
            json!({"reason": "x"}),
        )
        .await;
    let demote = server
        .post(
            &format!("/api/v1/admin/users/{}/demote", admin.id),
            &admin.token,
            json!({}),
        )
        .await;

    ban.assert_invalid("id");
    demote.assert_invalid("id");
}

#[tokio::test]
async fn admins_list_find_promote_and_demote_users() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;
    server.user("bob@example.com").await;

    let filtered = server.get("/api/v1/admin/users?q=ADA", &admin.token).await;
    let first_page = server
        .get("/api/v1/admin/users/?limit=2", &admin.token)
        .await;
    let cursor = first_page.body["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second_page = server
        .get(
            &format!("/api/v1/admin/users?limit=2&cursor={cursor}"),
            &admin.token,
        )
        .await;
    let one = server
        .get(&format!("/api/v1/admin/users/{}", ada.id), &admin.token)
        .await;
    let missing = server.get("/api/v1/admin/users/999999", &admin.token).await;
    let promoted = server
        .post(
            &format!("/api/v1/admin/users/{}/promote", ada.id),
            &admin.token,
            json!({}),
        )
        .await;
    let demoted = server
        .post(
            &format!("/api/v1/admin/users/{}/demote", ada.id),
            &admin.token,
            json!({}),
        )
        .await;

    let emails: Vec<&str> = filtered.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, ["ada@example.com"]);
    assert_eq!(first_page.body["items"].as_array().expect("items").len(), 2);
    assert_eq!(
        second_page.body["items"].as_array().expect("items").len(),
        1
    );
    assert!(second_page.body["next_cursor"].is_null());
    assert_eq!(one.body["email"], "ada@example.com");
    missing.assert_problem(404, "not_found");
    assert_eq!(promoted.body["is_admin"], true);
    assert_eq!(demoted.body["is_admin"], false);
}

#[tokio::test]
async fn a_ban_needs_a_reason_and_an_existing_user() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;

    let no_reason = server
        .post(
            &format!("/api/v1/admin/users/{}/ban", ada.id),
            &admin.token,
            json!({}),
        )
        .await;
    let unknown = server
        .post(
            "/api/v1/admin/users/424242/ban",
            &admin.token,
            json!({"reason": "x"}),
        )
        .await;

    no_reason.assert_invalid("reason");
    unknown.assert_problem(404, "not_found");
    assert_eq!(server.get("/api/v1/users/me", &ada.token).await.status, 200);
}

#[tokio::test]
async fn every_admin_change_is_in_the_audit_log_newest_first() {
    let server = TestServer::spawn().await;
    let admin = server.admin("root@example.com").await;
    let ada = server.user("ada@example.com").await;
    let bob = server.user("bob@example.com").await;
    let on_ada = |action: &str| format!("/api/v1/admin/users/{}/{action}", ada.id);

    server
        .post(&on_ada("ban"), &admin.token, json!({"reason": "spam"}))
        .await;
    server.post(&on_ada("unban"), &admin.token, json!({})).await;
    server
        .post(&on_ada("promote"), &admin.token, json!({}))
        .await;
    server
        .post(&on_ada("demote"), &admin.token, json!({}))
        .await;
    server
        .post(
            &format!("/api/v1/admin/users/{}/promote", bob.id),
            &admin.token,
            json!({}),
        )
        .await;
    server
        .post(
            "/api/v1/admin/users/999999/ban",
            &admin.token,
            json!({"reason": "x"}),
        )
        .await;
    let about_ada = server
        .get(
            &format!("/api/v1/admin/audit?user_id={}", ada.id),
            &admin.token,
        )
        .await;
    let everything = server
        .get("/api/v1/admin/audit/?limit=2", &admin.token)
        .await;
    let carl = server.user("carl@example.com").await;
    let as_user = server.get("/api/v1/admin/audit", &carl.token).await;

    assert_eq!(about_ada.status, 200, "{}", about_ada.text);
    let entries = about_ada.body["items"].as_array().expect("items");
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["demote", "promote", "unban", "ban"]);
    assert!(
        entries
            .iter()
            .all(|e| e["actor_id"] == admin.id && e["target_user_id"] == ada.id)
    );
    assert_eq!(entries[3]["reason"], "spam");
    assert!(entries[0]["reason"].is_null());
    assert_eq!(everything.body["items"].as_array().expect("items").len(), 2);
    assert!(everything.body["next_cursor"].is_string());
    assert_eq!(
        server.db.query_i64("SELECT COUNT(*) FROM audit_log").await,
        5
    );
    as_user.assert_problem(403, "forbidden");
}
