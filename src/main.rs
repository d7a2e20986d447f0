//! The `tally` binary: reads the configuration once, then serves or runs a command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

mod cli;
mod commands;
mod serve;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the real environment and flags still apply.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging();

    let outcome = match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Migrate { database, action } => commands::migrate(&database, action).await,
        Command::Users { database, action } => commands::users(&database, action).await,
    };

    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// One line per event on standard output, at `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}
