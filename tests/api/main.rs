//! End-to-end tests: each starts a real `tally serve` on its own fresh database and checks
//! what a client sees, and what the database holds afterwards.

mod common;

mod auth;
mod bans;
mod cli;
mod concurrency;
mod docs;
mod errors;
mod hostile;
mod idempotency;
mod instances;
mod ledger;
mod outage;
mod pagination;
mod sessions;
