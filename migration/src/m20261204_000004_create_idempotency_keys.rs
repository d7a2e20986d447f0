use sea_orm_migration::prelude::*;

use crate::columns::{exact_string, timestamp};
use crate::m20261204_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let keys = Table::create()
            .table(IdempotencyKeys::Table)
            .col(
                ColumnDef::new(IdempotencyKeys::UserId)
                    .big_integer()
                    .not_null(),
            )
            .col(exact_string(manager, IdempotencyKeys::IdempotencyKey, 255).not_null())
            // SHA-256 of the parsed request, to tell a retry from a different request.
            .col(
                ColumnDef::new(IdempotencyKeys::RequestHash)
                    .string_len(64)
                    .not_null(),
            )
            // Set in the same transaction that claims the key; null only until then.
            .col(
                ColumnDef::new(IdempotencyKeys::TransactionId)
                    .big_integer()
                    .null(),
            )
            .col(timestamp(manager, IdempotencyKeys::CreatedAt).not_null())
            // The primary key is what makes two concurrent uses of one key collide.
            .primary_key(
                Index::create()
                    .name("pk_idempotency_keys")
                    .col(IdempotencyKeys::UserId)
                    .col(IdempotencyKeys::IdempotencyKey),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_idempotency_keys_user")
                    .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                    .to(Users::Table, Users::Id),
            )
            .to_owned();
        manager.create_table(keys).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Table::drop().table(IdempotencyKeys::Table).to_owned();
        manager.drop_table(drop).await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    IdempotencyKey,
    RequestHash,
    TransactionId,
    CreatedAt,
}
