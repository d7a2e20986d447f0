use sea_orm_migration::prelude::*;

use crate::columns::timestamp;
use crate::m20261204_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(transactions_table(manager)).await?;

        // Serves the history page: one user's rows, newest first, by (created_at, id).
        let history = Index::create()
            .name("ix_transactions_user_created_id")
            .table(Transactions::Table)
            .col(Transactions::UserId)
            .col(Transactions::CreatedAt)
            .col(Transactions::Id)
            .to_owned();
        manager.create_index(history).await?;

        manager.create_table(balances_table(manager)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Balances::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Transactions::Table).to_owned())
            .await
    }
}

fn transactions_table(manager: &SchemaManager) -> TableCreateStatement {
    Table::create()
        .table(Transactions::Table)
        .col(
            ColumnDef::new(Transactions::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Transactions::UserId)
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(Transactions::Kind).string_len(16).not_null())
        // Minor units as an exact integer: no float ever holds money.
        .col(
            ColumnDef::new(Transactions::Amount)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(Transactions::Currency)
                .string_len(8)
                .not_null(),
        )
        .col(
            ColumnDef::new(Transactions::Description)
                .string_len(500)
                .null(),
        )
        .col(
            ColumnDef::new(Transactions::CounterpartyId)
                .big_integer()
                .null(),
        )
        .col(
            ColumnDef::new(Transactions::Status)
                .string_len(16)
                .not_null(),
        )
        .col(timestamp(manager, Transactions::CreatedAt).not_null())
        .check(Expr::col(Transactions::Amount).gt(0))
        .foreign_key(
            ForeignKey::create()
                .name("fk_transactions_user")
                .from(Transactions::Table, Transactions::UserId)
                .to(Users::Table, Users::Id),
        )
        .to_owned()
}

fn balances_table(manager: &SchemaManager) -> TableCreateStatement {
    Table::create()
        .table(Balances::Table)
        .col(ColumnDef::new(Balances::UserId).big_integer().not_null())
        .col(ColumnDef::new(Balances::Currency).string_len(8).not_null())
        .col(
            ColumnDef::new(Balances::Amount)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(timestamp(manager, Balances::UpdatedAt).not_null())
        .primary_key(
            Index::create()
                .col(Balances::UserId)
                .col(Balances::Currency),
        )
        // The last line of defence: even a buggy update cannot leave a negative balance.
        .check(Expr::col(Balances::Amount).gte(0))
        .foreign_key(
            ForeignKey::create()
                .name("fk_balances_user")
                .from(Balances::Table, Balances::UserId)
                .to(Users::Table, Users::Id),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum Transactions {
    Table,
    Id,
    UserId,
    Kind,
    Amount,
    Currency,
    Description,
    CounterpartyId,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Balances {
    Table,
    UserId,
    Currency,
    Amount,
    UpdatedAt,
}
