//! The schema of Tally, as ordered migrations. This crate is the only thing that shapes the
//! database; it also builds a `migration` binary so `sea-orm-cli migrate` works on it.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261204_000001_create_users;
mod m20261204_000002_create_ledger;
mod m20261204_000003_create_audit_log;
mod m20261204_000004_create_idempotency_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_create_users::Migration),
            Box::new(m20261204_000002_create_ledger::Migration),
            Box::new(m20261204_000003_create_audit_log::Migration),
            Box::new(m20261204_000004_create_idempotency_keys::Migration),
        ]
    }
}
