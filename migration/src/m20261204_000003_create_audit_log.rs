use sea_orm_migration::prelude::*;

use crate::columns::timestamp;
use crate::m20261204_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let audit_log = Table::create()
            .table(AuditLog::Table)
            .col(
                ColumnDef::new(AuditLog::Id)
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            // Null when the change was made at the server's command line.
            .col(ColumnDef::new(AuditLog::ActorId).big_integer().null())
            .col(ColumnDef::new(AuditLog::Action).string_len(16).not_null())
            .col(
                ColumnDef::new(AuditLog::TargetUserId)
                    .big_integer()
                    .not_null(),
            )
            .col(ColumnDef::new(AuditLog::Reason).string_len(500).null())
            .col(timestamp(manager, AuditLog::CreatedAt).not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_audit_log_target")
                    .from(AuditLog::Table, AuditLog::TargetUserId)
                    .to(Users::Table, Users::Id),
            )
            .to_owned();
        manager.create_table(audit_log).await?;

        // Serves the newest-first page, whole or for one user.
        let by_time = Index::create()
            .name("ix_audit_log_created_id")
            .table(AuditLog::Table)
            .col(AuditLog::CreatedAt)
            .col(AuditLog::Id)
            .to_owned();
        manager.create_index(by_time).await?;
        let by_user = Index::create()
            .name("ix_audit_log_target_created_id")
            .table(AuditLog::Table)
            .col(AuditLog::TargetUserId)
            .col(AuditLog::CreatedAt)
            .col(AuditLog::Id)
            .to_owned();
        manager.create_index(by_user).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    TargetUserId,
    Reason,
    CreatedAt,
}
