//! Connecting to the database, applying migrations safely, and the transaction kinds the
//! services use.

use std::future::Future;
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, Executor};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::error::{is_broken_connection, is_busy};

/// How long start-up keeps trying to open a SQLite file another instance is setting up.
const SQLITE_OPEN_PATIENCE: Duration = Duration::from_secs(5);

/// How long a ping may take before the database counts as unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a pooled connection may sit unused before it is checked on its next checkout.
/// Hot connections are handed out untested, so a busy server pays no extra round trip.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(30);

/// Key of the PostgreSQL advisory lock that serialises migrations ("tally" in ASCII).
const PG_MIGRATION_LOCK: i64 = 0x74_61_6c_6c_79;

/// How long an instance waits for another one's migrations before giving up.
const MIGRATION_LOCK_WAIT_SECS: u32 = 120;

/// Where the database is and how the pool treats it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub min_connections: u32,
    /// Bounds every wait for a pooled connection; past it the request is refused with 503.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`, MariaDB `max_statement_time`, SQLite busy timeout.
    pub statement_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
}

/// Opens the connection pool.
///
/// # Errors
/// When the URL is not one of `sqlite:`, `postgres:` or `mysql:`, or the first connection
/// cannot be made within the acquire timeout.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .idle_timeout(settings.idle_timeout)
        .max_lifetime(settings.max_lifetime)
        .test_before_acquire_if_idle_for(CHECK_AFTER_IDLE)
        .statement_timeout(settings.statement_timeout)
        .sqlx_logging(false);
    set_sqlite_options(&mut options, settings);
    set_mysql_session_limits(&mut options, settings.statement_timeout);

    // Instances opening a new SQLite file at the same moment race to switch it to WAL,
    // which takes a lock SQLite does not wait for; the loser simply opens it again.
    let give_up_at = Instant::now() + settings.acquire_timeout.max(SQLITE_OPEN_PATIENCE);
    loop {
        match Database::connect(options.clone()).await {
            Err(err) if is_busy(&err) && Instant::now() < give_up_at => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            outcome => return outcome,
        }
    }
}

fn set_sqlite_options(options: &mut ConnectOptions, settings: &DatabaseSettings) {
    let busy_timeout = settings.statement_timeout;
    // `sqlite://tally.db` creates the file as `?mode=rwc` does; a mode the URL names wins.
    let create_if_missing = !settings.url.contains("mode=");
    options.map_sqlx_sqlite_opts(move |sqlite| {
        // WAL lets readers go on while one writer writes; the busy timeout makes a writer
        // wait its turn instead of failing with "database is locked".
        let sqlite = sqlite
            .busy_timeout(busy_timeout)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .foreign_keys(true);
        if create_if_missing {
            sqlite.create_if_missing(true)
        } else {
            sqlite
        }
    });
}

/// Bounds each MySQL/MariaDB statement, and each wait for a row lock, on every new session.
fn set_mysql_session_limits(options: &mut ConnectOptions, limit: Duration) {
    // InnoDB counts whole seconds and waits 50 s by default; a wait longer than the
    // statement limit would only end in the same refusal later.
    let lock_wait_secs = limit.as_secs().max(1);
    options.map_sqlx_mysql_pool_opts(move |pool| {
        pool.after_connect(move |conn, _meta| {
            Box::pin(async move {
                let lock_wait = format!("SET SESSION innodb_lock_wait_timeout = {lock_wait_secs}");
                conn.execute(sqlx::AssertSqlSafe(lock_wait)).await?;
                // MariaDB counts seconds in max_statement_time; MySQL has only
                // max_execution_time, in milliseconds, for reads.
                let mariadb = format!("SET SESSION max_statement_time = {}", limit.as_secs_f64());
                if conn.execute(sqlx::AssertSqlSafe(mariadb)).await.is_err() {
                    let mysql = format!("SET SESSION max_execution_time = {}", limit.as_millis());
                    conn.execute(sqlx::AssertSqlSafe(mysql)).await?;
                }
                Ok(())
            })
        })
    });
}

/// Runs a read, repeating it when the connection it ran on turned out to be dead.
///
/// A failed connection leaves the pool, but after a failover or a mass termination every
/// pooled connection may be dead, and idle ones are only checked after sitting a while. So
/// the read goes on, at most once per pooled connection, until a live or new one answers.
/// Only reads come here: a write whose connection died may have been applied.
///
/// # Errors
/// The read's own error, or the last broken-connection error.
pub async fn read<T, F, Fut>(db: &DatabaseConnection, query: F) -> Result<T, DbErr>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let attempts = open_connections(db) + 1;
    let mut attempt = 1;
    loop {
        match query().await {
            Err(err) if is_broken_connection(&err) && attempt < attempts => {
                tracing::warn!(error = %err, attempt, "connection broke during a read; again");
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// How many connections the pool holds now, idle or in use.
pub fn open_connections(db: &DatabaseConnection) -> u32 {
    match db.get_database_backend() {
        DbBackend::Postgres => db.get_postgres_connection_pool().size(),
        DbBackend::MySql => db.get_mysql_connection_pool().size(),
        _ => db.get_sqlite_connection_pool().size(),
    }
}

/// Whether the database answers a trivial query within a short time.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    matches!(
        tokio::time::timeout(READY_TIMEOUT, db.ping()).await,
        Ok(Ok(()))
    )
}

/// Begins a transaction that will write.
///
/// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a transaction that first
/// reads and later writes would otherwise fail with "busy" instead of waiting its turn.
///
/// # Errors
/// When no connection can be had or the lock is not granted within the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    db.begin_with_options(options).await
}

/// What `tally migrate` and start-up can do to the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest applied migration.
    Down,
    /// Drop every table and apply all migrations again.
    Fresh,
}

/// Runs migrations while holding a database-wide lock, so instances starting together on
/// one database apply each migration once: an advisory lock on PostgreSQL, a named lock on
/// MySQL/MariaDB and the write lock on SQLite.
///
/// # Errors
/// When the lock cannot be had or a migration fails.
pub async fn migrate(
    db: &DatabaseConnection,
    settings: &DatabaseSettings,
    action: MigrationAction,
) -> Result<(), DbErr> {
    match db.get_database_backend() {
        // Dropping every table needs foreign keys off, which SQLite ignores inside a
        // transaction; an operator runs this alone, so it needs no lock either.
        DbBackend::Sqlite if action == MigrationAction::Fresh => {
            let session = sqlite_without_foreign_keys(settings).await?;
            let outcome = run_migrations(&session, action).await;
            outcome.and(session.close().await)
        }
        // SQLite's DDL is transactional: one write transaction is both the lock and the
        // scope, and a second instance waits for it through the busy timeout.
        DbBackend::Sqlite => {
            let txn = begin_write(db).await?;
            run_migrations(&txn, action).await?;
            txn.commit().await
        }
        backend => {
            let session = LockedSession::open(settings, backend).await?;
            let outcome = run_migrations(&session.db, action).await;
            let released = session.release().await;
            outcome.and(released)
        }
    }
}

/// Each migration's name and whether it is applied, oldest first.
///
/// # Errors
/// When the database cannot be read.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    let migrations = Migrator::get_migration_with_status_read_only(db).await?;
    let applied = |status| matches!(status, migration::MigrationStatus::Applied);
    Ok(migrations
        .iter()
        .map(|m| (m.name().to_owned(), applied(m.status())))
        .collect())
}

async fn run_migrations<C>(db: &C, action: MigrationAction) -> Result<(), DbErr>
where
    for<'c> &'c C: migration::IntoSchemaManagerConnection<'c>,
{
    match action {
        MigrationAction::Up => Migrator::up(db, None).await,
        MigrationAction::Down => Migrator::down(db, Some(1)).await,
        MigrationAction::Fresh => Migrator::fresh(db).await,
    }
}

async fn sqlite_without_foreign_keys(
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let busy_timeout = settings.statement_timeout;
    options
        .map_sqlx_sqlite_opts(move |sqlite| sqlite.foreign_keys(false).busy_timeout(busy_timeout));
    Database::connect(options).await
}

/// A database session of its own that holds the migration lock and runs the migrations.
///
/// A session lock lives as long as its session, so it cannot be a pooled connection that
/// others share. Running the migrations on it also frees them from the pool's statement
/// timeout, which is meant for requests, not for a long schema change.
struct LockedSession {
    db: DatabaseConnection,
    backend: DbBackend,
}

impl LockedSession {
    async fn open(settings: &DatabaseSettings, backend: DbBackend) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(settings.url.clone());
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let db = Database::connect(options).await?;

        let granted = match backend {
            DbBackend::Postgres => {
                let wait = format!("SET lock_timeout = '{MIGRATION_LOCK_WAIT_SECS}s'");
                db.execute_unprepared(&wait).await?;
                let lock = format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})");
                db.execute_unprepared(&lock).await.map(|_| true)?
            }
            _ => {
                let lock = format!(
                    "SELECT GET_LOCK('tally_migrations', {MIGRATION_LOCK_WAIT_SECS}) AS granted"
                );
                let row = db
                    .query_one_raw(Statement::from_string(backend, lock))
                    .await?;
                let granted: Option<i64> = match row {
                    Some(row) => row.try_get("", "granted")?,
                    None => None,
                };
                granted == Some(1)
            }
        };
        if !granted {
            return Err(DbErr::Migration(
                "timed out waiting for the migration lock".into(),
            ));
        }
        Ok(Self { db, backend })
    }

    async fn release(self) -> Result<(), DbErr> {
        let unlock = match self.backend {
            DbBackend::Postgres => format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"),
            _ => "SELECT RELEASE_LOCK('tally_migrations')".to_owned(),
        };
        self.db.execute_unprepared(&unlock).await?;
        self.db.close().await
    }
}
