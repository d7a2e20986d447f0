use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A UTC timestamp column that keeps microseconds on every backend.
///
/// MySQL and MariaDB drop the fraction unless the precision is spelled out, and their
/// `TIMESTAMP` ends in 2038, so they get `DATETIME(6)` (holding UTC, as the connection's time
/// zone is UTC). PostgreSQL's `timestamptz` keeps microseconds already; SQLite stores text.
pub fn timestamp(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match manager.get_database_backend() {
        DbBackend::MySql => column.custom(Alias::new("DATETIME(6)")),
        _ => column.timestamp_with_time_zone(),
    };
    column
}

/// A string column compared byte for byte on every backend.
///
/// MySQL and MariaDB compare strings by the server's collation, which commonly ignores
/// case and accents (`utf8mb4_general_ci`): `K1` would be the idempotency key `k1`, and
/// `älice@x.io` the email `alice@x.io`. The binary collation compares as PostgreSQL and
/// SQLite do.
pub fn exact_string(manager: &SchemaManager, name: impl IntoIden, length: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.string_len(length);
    if manager.get_database_backend() == DbBackend::MySql {
        column.extra("COLLATE utf8mb4_bin");
    }
    column
}
