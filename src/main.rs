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
    if let Err(message) = init_logging() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }

    let outcome = match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Migrate { database, action } => commands::migrate(&database, action).await,
        Command::Users { database, action } => commands::users(&database, action).await,
    };

    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

/// One line per event on standard output, at `RUST_LOG` (default `info`).
fn init_logging() -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) => EnvFilter::try_new(&directives)
            .map_err(|e| format!("RUST_LOG={directives:?} is not a valid log filter: {e}"))?,
        Err(_) => EnvFilter::new("info"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    Ok(())
}

/// The error and its causes on one line, leaving out a cause that only repeats the text
/// of the one before (database errors often wrap their driver's message that way).
fn describe(err: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut previous = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !previous.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        previous = text;
    }
    line
}
