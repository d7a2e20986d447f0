//! The test harness: a fresh, migrated database per test and a real `tally serve` process
//! on a random loopback port, spoken to over HTTP.
//!
//! The backend is SQLite unless `TEST_DATABASE_URL` names a PostgreSQL or MySQL/MariaDB
//! server; each test then gets a database of its own on that server, dropped afterwards.
//! A server that cannot be reached fails the test: nothing is skipped silently.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use reqwest::header::HeaderMap;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";
pub const PASSWORD: &str = "correct horse battery";

/// A database of the test's own.
pub struct TestDb {
    pub url: String,
    pub backend: DbBackend,
    /// For a server database: the server's URL and the name to drop when done.
    server: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn fresh() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
        {
            None => Self::sqlite(),
            Some(server_url) => Self::on_server(server_url).await,
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("tally.db");
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            backend: DbBackend::Sqlite,
            server: None,
            _dir: Some(dir),
        }
    }

    async fn on_server(server_url: String) -> Self {
        let name = format!("tally_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(server_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
        let backend = admin.get_database_backend();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        admin.close().await.expect("close the admin connection");

        Self {
            url: replace_database_name(&server_url, &name),
            backend,
            server: Some((server_url, name)),
            _dir: None,
        }
    }

    /// The same database under a second handle that does not drop it, for a second server.
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            server: None,
            _dir: None,
        }
    }

    /// A connection of the test's own, as another process would have.
    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(self.url.as_str())
            .await
            .expect("connect to the test database")
    }

    /// A single connection, so that a session setting or lock taken on it stays in force.
    pub async fn connect_single(&self) -> DatabaseConnection {
        let mut options = ConnectOptions::new(self.url.clone());
        options.max_connections(1).min_connections(1);
        Database::connect(options)
            .await
            .expect("connect to the test database")
    }

    /// A connection of the test's own that holds `table` so that no one else can write it
    /// (on SQLite, the whole database) until the connection is closed.
    pub async fn lock_table(&self, table: &str) -> DatabaseConnection {
        let blocker = self.connect_single().await;
        let statements = match self.backend {
            DbBackend::Sqlite => vec!["BEGIN IMMEDIATE".to_owned()],
            DbBackend::Postgres => vec![
                "BEGIN".to_owned(),
                format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
            ],
            _ => vec![format!("LOCK TABLES {table} WRITE")],
        };
        for sql in statements {
            blocker
                .execute_unprepared(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        blocker
    }

    /// Runs SQL straight on the database, outside the server.
    pub async fn execute(&self, sql: &str) {
        let db = self.connect().await;
        db.execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        db.close().await.expect("close");
    }

    /// The first column of the first row of a query.
    pub async fn query_one<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        let db = self.connect().await;
        let row = db
            .query_one_raw(Statement::from_string(self.backend, sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql}: no row"));
        let value = row
            .try_get_by_index(0)
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        db.close().await.expect("close");
        value
    }

    pub async fn query_i64(&self, sql: &str) -> i64 {
        self.query_one(sql).await
    }

    /// How many journal rows the database holds.
    pub async fn transaction_count(&self) -> i64 {
        self.query_i64("SELECT COUNT(*) FROM transactions").await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server_url, name)) = self.server.take() else {
            return;
        };
        // Drop runs outside any runtime; a short-lived one removes the database.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(server_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!("DROP DATABASE {name}"))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            }
        })
        .join();
    }
}

fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host_part = path_start.map_or(base, |i| &base[..i]);
    format!("{host_part}/{name}{query}")
}

/// A running `tally serve`.
pub struct TestServer {
    pub base: String,
    pub db: TestDb,
    pub client: reqwest::Client,
    child: Child,
    logs: Arc<Mutex<String>>,
    workdir: tempfile::TempDir,
}

/// The settings every test server gets: a known secret and cheap password hashing.
fn base_env() -> Vec<(&'static str, String)> {
    vec![
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("TALLY_ARGON2_MEMORY_KIB", "64".to_owned()),
        ("TALLY_ARGON2_ITERATIONS", "1".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
}

/// A `tally` command with the test environment and nothing inherited that could change it.
pub fn tally_command(db: &TestDb, workdir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tally"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TALLY_") || name == "DATABASE_URL" || name == "JWT_SECRET" {
            command.env_remove(name);
        }
    }
    command
        .envs(base_env())
        .env("DATABASE_URL", &db.url)
        .current_dir(workdir);
    command
}

impl TestServer {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestDb::fresh().await, &[]).await
    }

    /// Starts a server on `db` with extra environment settings.
    pub async fn spawn_with(db: TestDb, env: &[(&str, &str)]) -> Self {
        let workdir = tempfile::tempdir().expect("working directory");
        let mut command = tally_command(&db, workdir.path());
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .envs(env.iter().copied());
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("start tally serve");

        let logs = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = mpsc::channel();
        collect_output(child.stdout.take(), Arc::clone(&logs), Some(address_tx));
        collect_output(child.stderr.take(), Arc::clone(&logs), None);

        let address =
            tokio::task::spawn_blocking(move || address_rx.recv_timeout(Duration::from_secs(60)))
                .await
                .expect("join");
        let Ok(address) = address else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start; its output:\n{}",
                logs.lock().expect("logs")
            );
        };

        let client = reqwest::Client::builder().build().expect("http client");
        Self {
            base: format!("http://{address}"),
            db,
            client,
            child,
            logs,
            workdir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn register(&self, email: &str) -> Reply {
        let body = json!({ "email": email, "password": PASSWORD });
        self.send(
            reqwest::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(body),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        let body = json!({ "email": email, "password": password });
        self.send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(body),
        )
        .await
    }

    /// Registers and logs in a new user.
    pub async fn user(&self, email: &str) -> TestUser {
        let registered = self.register(email).await;
        assert_eq!(registered.status, 201, "{}", registered.text);
        let logged_in = self.login(email, PASSWORD).await;
        assert_eq!(logged_in.status, 200, "{}", logged_in.text);
        TestUser {
            id: registered.body["id"].as_i64().expect("id"),
            token: logged_in.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        }
    }

    /// A user made admin straight in the database, then logged in.
    pub async fn admin(&self, email: &str) -> TestUser {
        let user = self.user(email).await;
        self.db
            .execute(&format!(
                "UPDATE users SET is_admin = true WHERE id = {}",
                user.id
            ))
            .await;
        user
    }

    pub async fn deposit(&self, user: &TestUser, amount: &str, currency: &str) -> Reply {
        let body = json!({ "kind": "deposit", "amount": amount, "currency": currency });
        self.post("/api/v1/transactions/", &user.token, body).await
    }

    /// The user's balance in `currency` as the API formats it ("0" digits if never held).
    pub async fn balance(&self, user: &TestUser, currency: &str) -> Option<String> {
        let reply = self.get("/api/v1/balances", &user.token).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body["balances"]
            .as_array()
            .expect("balances")
            .iter()
            .find(|b| b["currency"] == currency)
            .map(|b| b["amount"].as_str().expect("amount").to_owned())
    }

    /// Asks the server to stop, as an init system would.
    pub fn send_sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    pub fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for the server")
    }

    pub fn workdir(&self) -> &std::path::Path {
        self.workdir.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect_output(
    stream: Option<impl std::io::Read + Send + 'static>,
    logs: Arc<Mutex<String>>,
    address_tx: Option<mpsc::Sender<String>>,
) {
    let Some(stream) = stream else { return };
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let (Some(tx), Some(at)) = (&address_tx, line.find("listening on http://")) {
                let address = line[at + "listening on http://".len()..].trim().to_owned();
                let _ = tx.send(address);
            }
            let mut logs = logs.lock().expect("logs");
            logs.push_str(&line);
            logs.push('\n');
        }
    });
}

pub struct TestUser {
    pub id: i64,
    pub token: String,
}

/// What a client saw.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts a problem document with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        for field in ["type", "title", "detail"] {
            assert!(self.body[field].is_string(), "no {field} in {}", self.text);
        }
    }

    /// Asserts a `422` that names `field` among its problems.
    pub fn assert_invalid(&self, field: &str) {
        self.assert_problem(422, "validation_error");
        let errors = self.body["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["field"] == field),
            "{field} not named in {}",
            self.text
        );
    }
}
