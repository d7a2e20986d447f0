//! Tally's business rules and all of its database access.
//!
//! Every public function takes the connection (or transaction) it runs on, so the caller
//! chooses the scope and a test can hand in its own. Nothing here reads the environment:
//! settings arrive as arguments, parsed once at start.

pub mod admin;
pub mod database;
pub mod error;
pub mod ledger;
pub mod money;
pub mod page;
pub mod passwords;
pub mod throttle;
pub mod time;
pub mod tokens;
pub mod users;

pub use error::{Error, Result};
pub use sea_orm::DatabaseConnection;
