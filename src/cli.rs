//! The command line: every setting is a flag and an environment variable of the same
//! meaning (flags win), validated here once. Nothing here derives `Debug`: the database
//! URL may hold a password.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use service::database::DatabaseSettings;
use service::money::Currencies;
use service::passwords::HashingCost;

#[derive(Parser)]
#[command(
    name = "tally",
    version,
    about = "A per-user transactions ledger behind a REST API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(Box<ServeArgs>),
    /// Inspect or change the database schema.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        action: MigrateCommand,
    },
    /// Manage accounts from the server's command line.
    Users {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        action: UsersCommand,
    },
}

#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest applied migration.
    Down,
    /// List the migrations and whether each is applied.
    Status,
    /// Drop every table and apply all migrations again. Destroys all data.
    Fresh,
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create an admin account; the password comes from TALLY_ADMIN_PASSWORD or a prompt.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        hashing: HashingArgs,
    },
    /// Give a user the admin right.
    Promote { id: i64 },
    /// Take the admin right from a user.
    Demote { id: i64 },
    /// Ban a user and end every token issued to it.
    Ban {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Lift a user's ban.
    Unban { id: i64 },
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, env = "TALLY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "TALLY_TOKEN_TTL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub token_ttl_secs: u64,

    /// Do not apply pending migrations at start.
    #[arg(long, env = "TALLY_NO_MIGRATE", value_parser = clap::builder::BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    pub no_migrate: bool,

    /// Accepted currencies and their fraction digits.
    #[arg(long, env = "TALLY_CURRENCIES", default_value = service::money::DEFAULT_CURRENCIES,
          value_parser = Currencies::parse)]
    pub currencies: Currencies,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TALLY_MAX_BODY_BYTES", default_value_t = api::DEFAULT_MAX_BODY_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=16 * 1024 * 1024))]
    pub max_body_bytes: u64,

    /// Failed logins for one email address that lock it out.
    #[arg(long, env = "TALLY_LOGIN_MAX_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_max_failures: u32,

    /// How long a locked-out address waits, in seconds.
    #[arg(long, env = "TALLY_LOGIN_LOCKOUT_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub login_lockout_secs: u64,

    #[command(flatten)]
    pub hashing: HashingArgs,
}

#[derive(Args)]
pub struct DatabaseArgs {
    /// sqlite://FILE?mode=rwc, postgres://USER@HOST/DB or mysql://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://tally.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Most connections the pool opens.
    #[arg(long, env = "TALLY_DB_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    /// Connections the pool keeps open even when idle.
    #[arg(long, env = "TALLY_DB_MIN_CONNECTIONS", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub db_min_connections: u32,

    /// Longest wait for a pooled connection before the request gets 503.
    #[arg(long, env = "TALLY_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub db_acquire_timeout_ms: u64,

    /// Longest a statement may run (PostgreSQL, MariaDB) or wait for SQLite's lock.
    #[arg(long, env = "TALLY_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub db_statement_timeout_ms: u64,

    /// Close connections idle for longer than this.
    #[arg(long, env = "TALLY_DB_IDLE_TIMEOUT_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_idle_timeout_secs: u64,

    /// Replace connections older than this.
    #[arg(long, env = "TALLY_DB_MAX_LIFETIME_SECS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub db_max_lifetime_secs: u64,
}

impl DatabaseArgs {
    /// # Errors
    /// A message when the settings contradict each other.
    pub fn settings(&self) -> Result<DatabaseSettings, String> {
        if self.db_min_connections > self.db_max_connections {
            return Err(format!(
                "TALLY_DB_MIN_CONNECTIONS ({}) is larger than TALLY_DB_MAX_CONNECTIONS ({})",
                self.db_min_connections, self.db_max_connections
            ));
        }
        let known = [
            "sqlite:",
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
        ];
        if !known
            .iter()
            .any(|prefix| self.database_url.starts_with(prefix))
        {
            return Err(
                "DATABASE_URL must start with sqlite:, postgres:// (or postgresql://), \
                        mysql:// or mariadb://"
                    .into(),
            );
        }
        Ok(DatabaseSettings {
            url: self.database_url.replacen("mariadb://", "mysql://", 1),
            max_connections: self.db_max_connections,
            min_connections: self.db_min_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            idle_timeout: Duration::from_secs(self.db_idle_timeout_secs),
            max_lifetime: Duration::from_secs(self.db_max_lifetime_secs),
        })
    }
}

#[derive(Args)]
pub struct HashingArgs {
    /// Argon2id memory per password hash, in KiB.
    #[arg(long, env = "TALLY_ARGON2_MEMORY_KIB",
          default_value_t = HashingCost::default().memory_kib)]
    pub argon2_memory_kib: u32,

    /// Argon2id passes per password hash.
    #[arg(long, env = "TALLY_ARGON2_ITERATIONS",
          default_value_t = HashingCost::default().iterations)]
    pub argon2_iterations: u32,

    /// Argon2id lanes per password hash.
    #[arg(long, env = "TALLY_ARGON2_PARALLELISM",
          default_value_t = HashingCost::default().parallelism)]
    pub argon2_parallelism: u32,
}

impl HashingArgs {
    pub fn cost(&self) -> HashingCost {
        HashingCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }
}
