//! SeaORM entities: the plain shape of Tally's tables, with no behaviour.
//!
//! The schema itself is owned by the `migration` crate; these types only mirror it.

pub mod audit_entry;
pub mod balance;
pub mod idempotency_key;
pub mod ledger_entry;
pub mod user;

pub mod prelude {
    pub use super::audit_entry::Entity as AuditEntry;
    pub use super::balance::Entity as Balance;
    pub use super::idempotency_key::Entity as IdempotencyKey;
    pub use super::ledger_entry::Entity as LedgerEntry;
    pub use super::user::Entity as User;
}
