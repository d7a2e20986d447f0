//! `tally serve`: connect, migrate, listen, and stop cleanly on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use api::{AppState, HttpSettings};
use rand::Rng;
use service::database::{self, MigrationAction};
use service::passwords::Passwords;
use service::throttle::{LoginThrottle, ThrottleSettings};
use service::tokens::{JwtSecret, Tokens};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;

/// How long shutdown waits for the pool's connections to close.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: ServeArgs) -> Result<()> {
    let settings = args.database.settings().map_err(anyhow::Error::msg)?;
    let secret = jwt_secret()?;
    let tokens = Tokens::new(&secret, args.token_ttl_secs).map_err(anyhow::Error::msg)?;
    let passwords = Passwords::new(args.hashing.cost()).map_err(anyhow::Error::msg)?;

    let db = database::connect(&settings)
        .await
        .context("cannot connect to the database")?;
    if !args.no_migrate {
        database::migrate(&db, &settings, MigrationAction::Up)
            .await
            .context("cannot apply migrations")?;
    }

    let state = AppState {
        db: db.clone(),
        tokens: Arc::new(tokens),
        passwords,
        currencies: Arc::new(args.currencies),
        login_throttle: Arc::new(LoginThrottle::new(ThrottleSettings {
            max_failures: args.login_max_failures,
            lockout: Duration::from_secs(args.login_lockout_secs),
        })),
    };
    let max_body_bytes = usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX);
    let app = api::app(state, HttpSettings { max_body_bytes });

    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    tracing::info!("listening on http://{address}");

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;

    tracing::info!("stopped taking requests; closing the database pool");
    // A connection stuck in a bad state must not keep the process from exiting.
    match tokio::time::timeout(POOL_CLOSE_TIMEOUT, db.close()).await {
        Ok(closed) => closed.context("cannot close the database pool")?,
        Err(_) => tracing::warn!("the database pool did not close in time; exiting anyway"),
    }
    Ok(())
}

/// `JWT_SECRET`, or a random one (with a warning) when it is unset.
fn jwt_secret() -> Result<JwtSecret> {
    match std::env::var("JWT_SECRET") {
        Ok(secret) => JwtSecret::new(secret).map_err(anyhow::Error::msg),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("JWT_SECRET is not valid UTF-8"),
        Err(std::env::VarError::NotPresent) => {
            tracing::warn!(
                "JWT_SECRET is not set: using a random secret, so tokens will not survive a \
                 restart and are not accepted by other instances"
            );
            let bytes: [u8; 32] = rand::rng().random();
            JwtSecret::new(bytes.to_vec()).map_err(anyhow::Error::msg)
        }
    }
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before the server exits.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };

    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}
