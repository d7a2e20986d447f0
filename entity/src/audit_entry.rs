use sea_orm::entity::prelude::*;

/// One administrative change to a user, written in the same database transaction as the
/// change itself.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The admin who made the change; `None` for the server's command line.
    pub actor_id: Option<i64>,
    /// `ban`, `unban`, `promote` or `demote`.
    pub action: String,
    pub target_user_id: i64,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
