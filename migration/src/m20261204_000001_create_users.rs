use sea_orm_migration::prelude::*;

use crate::columns::{exact_string, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let users = Table::create()
            .table(Users::Table)
            .col(
                ColumnDef::new(Users::Id)
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(exact_string(manager, Users::Email, 255).not_null())
            .col(
                ColumnDef::new(Users::PasswordHash)
                    .string_len(255)
                    .not_null(),
            )
            .col(ColumnDef::new(Users::FullName).string_len(200).null())
            .col(
                ColumnDef::new(Users::IsActive)
                    .boolean()
                    .not_null()
                    .default(true),
            )
            .col(
                ColumnDef::new(Users::IsAdmin)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(ColumnDef::new(Users::BanReason).string_len(500).null())
            .col(timestamp(manager, Users::BannedAt).null())
            .col(
                ColumnDef::new(Users::TokenVersion)
                    .big_integer()
                    .not_null()
                    .default(0),
            )
            .col(timestamp(manager, Users::CreatedAt).not_null())
            .col(timestamp(manager, Users::UpdatedAt).not_null())
            .to_owned();
        manager.create_table(users).await?;

        // Emails are stored lower-cased, so a plain unique index is a case-insensitive one.
        // The service recognises this index's name when it turns a violation into
        // "email taken", so a concurrent double registration cannot slip through.
        let unique_email = Index::create()
            .name("uq_users_email")
            .table(Users::Table)
            .col(Users::Email)
            .unique()
            .to_owned();
        manager.create_index(unique_email).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    FullName,
    IsActive,
    IsAdmin,
    BanReason,
    BannedAt,
    TokenVersion,
    CreatedAt,
    UpdatedAt,
}
