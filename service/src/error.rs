use std::sync::Arc;

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// Everything a service call can answer besides success.
///
/// Expected refusals are variants of their own, so the API can give each a stable code;
/// whatever was not expected ends in [`Error::Internal`], whose cause is for the log only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such resource")]
    NotFound,
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("unknown email or wrong password")]
    InvalidCredentials,
    #[error("the token is missing, malformed, expired or not signed by us")]
    InvalidToken,
    #[error("the token's user no longer exists")]
    UserNotFound,
    #[error("the token was revoked")]
    TokenRevoked,
    #[error("the user is banned")]
    UserBanned { reason: Option<String> },
    #[error("the caller may not do this")]
    Forbidden,
    #[error("the balance is too small")]
    InsufficientFunds,
    #[error("the idempotency key was used for a different request")]
    IdempotencyConflict,
    /// Too many failed logins for this address; try again after the given time.
    #[error("too many failed logins")]
    RateLimited { retry_after: std::time::Duration },
    /// Input that is well-formed but breaks a rule, tied to the request field it came from.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The database could not be reached in time; the request may succeed later.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("internal error")]
    Internal(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the whole transaction that failed may simply run again (see
    /// [`is_retryable_conflict`]).
    pub fn is_retryable_conflict(&self) -> bool {
        match self {
            Self::Internal(cause) => cause
                .downcast_ref::<DbErr>()
                .is_some_and(is_retryable_conflict),
            _ => false,
        }
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(cause))
    }
}

/// The one place that decides whether a database failure means "unavailable" (the caller
/// may retry later) or is a bug.
impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            Self::Unavailable(err)
        } else {
            Self::internal(err)
        }
    }
}

/// True when the error says the database (or the way to it) failed, rather than the query.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            is_unavailable_sqlx(e)
        }
        _ => false,
    }
}

/// True when a read may be repeated on a fresh connection: the one it ran on broke.
pub fn is_broken_connection(err: &DbErr) -> bool {
    match err {
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(**e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_))
                || database_code(e).is_some_and(|code| is_disconnect_code(&code))
        }
        _ => false,
    }
}

/// True when SQLite refused because another connection held a lock it would not wait for.
pub fn is_busy(err: &DbErr) -> bool {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(database_code(e).as_deref(), Some("5" | "517" | "261"))
        }
        _ => false,
    }
}

/// True for the errors after which a whole transaction may safely run again: the database
/// chose it as a deadlock victim or could not serialise it, and rolled it back.
pub fn is_retryable_conflict(err: &DbErr) -> bool {
    let code = match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            database_code(e)
        }
        _ => None,
    };
    matches!(code.as_deref(), Some("40001" | "40P01" | "1213"))
}

/// Whether the error is a violation of any unique index or primary key.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the error is a violation of the unique index `index` on `table_column`.
/// PostgreSQL and MySQL name the index in their message; SQLite names the column.
pub fn violates_unique(err: &DbErr, index: &str, table_column: &str) -> bool {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            message.contains(index) || message.contains(table_column)
        }
        _ => false,
    }
}

fn is_unavailable_sqlx(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(_) => database_code(err)
            .is_some_and(|code| is_disconnect_code(&code) || is_timeout_or_busy_code(&code)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs and MySQL error numbers that mean the session ended under us.
fn is_disconnect_code(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            // PostgreSQL: admin shutdown, crash shutdown, cannot connect now.
            "57P01" | "57P02" | "57P03"
            // MySQL/MariaDB: server gone away, lost connection, server shutdown,
            // connection killed.
            | "2006" | "2013" | "1053" | "1927"
        )
}

/// Codes for "the database is too slow or too busy right now".
fn is_timeout_or_busy_code(code: &str) -> bool {
    matches!(
        code,
        // PostgreSQL: statement timeout / cancelled, lock timeout.
        "57014" | "55P03"
        // MariaDB: max_statement_time exceeded; MySQL: max_execution_time exceeded.
        | "1969" | "3024"
        // MySQL/MariaDB: gave up waiting for a row lock.
        | "1205"
        // SQLite: busy or locked past the busy timeout (primary and extended codes).
        | "5" | "6" | "261" | "517" | "262"
    )
}

/// The driver's error code: SQLSTATE on PostgreSQL, the error number on MySQL, the
/// (extended) result code on SQLite.
fn database_code(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return Some(mysql.number().to_string());
    }
    db.code().map(|code| code.into_owned())
}
