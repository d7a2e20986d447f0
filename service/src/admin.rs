//! What administrators (and operators at the command line) may do to accounts.

use entity::{audit_entry, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use tracing::instrument;

use crate::database::begin_write;
use crate::page::{self, Cursor, Page, PageRequest};
use crate::{Error, Result, time, users};

/// Who asks for an administrative change.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A user calling the API; must be an admin.
    User(&'a user::Model),
    /// Someone at the server's command line, trusted by having database access.
    Operator,
}

impl Actor<'_> {
    /// # Errors
    /// [`Error::Forbidden`] for a user who is not an admin.
    pub fn require_admin(&self) -> Result<()> {
        match self {
            Actor::User(user) if !user.is_admin => Err(Error::Forbidden),
            _ => Ok(()),
        }
    }

    fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User(user) => Some(user.id),
            Actor::Operator => None,
        }
    }

    fn is(&self, user_id: i64) -> bool {
        matches!(self, Actor::User(user) if user.id == user_id)
    }
}

/// Bans a user with a reason and ends every token issued to it so far, so that after an
/// unban the user has to log in again.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin; [`Error::Invalid`] on `id` when an admin would ban
/// itself; [`Error::NotFound`] for an unknown user.
#[instrument(skip_all, fields(target_id = target_id))]
pub async fn ban(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    target_id: i64,
    reason: &str,
) -> Result<user::Model> {
    actor.require_admin()?;
    if actor.is(target_id) {
        return Err(Error::invalid("id", "an admin cannot ban itself"));
    }
    let reason = parse_reason(reason)?;

    let now = time::now();
    let changes = user::Entity::update_many()
        .col_expr(user::Column::IsActive, Expr::value(false))
        .col_expr(user::Column::BanReason, Expr::value(reason))
        .col_expr(user::Column::BannedAt, Expr::value(now))
        .col_expr(user::Column::TokenVersion, users::next_token_version())
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    apply(
        db,
        actor,
        target_id,
        changes,
        AuditAction::Ban,
        Some(reason),
    )
    .await
}

/// The longest ban reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A ban reason, trimmed; it must say something and stay short enough to show.
fn parse_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        let message = format!("must be 1 to {MAX_REASON_CHARS} characters, not only spaces");
        return Err(Error::invalid("reason", message));
    }
    Ok(reason)
}

/// Lifts a ban and clears its reason.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin; [`Error::NotFound`] for an unknown user.
#[instrument(skip_all, fields(target_id = target_id))]
pub async fn unban(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    target_id: i64,
) -> Result<user::Model> {
    actor.require_admin()?;

    let changes = user::Entity::update_many()
        .col_expr(user::Column::IsActive, Expr::value(true))
        .col_expr(user::Column::BanReason, Expr::value(Option::<String>::None))
        .col_expr(
            user::Column::BannedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(time::now()));
    apply(db, actor, target_id, changes, AuditAction::Unban, None).await
}

/// Grants or withdraws the admin right.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin; [`Error::Invalid`] on `id` when an admin would
/// demote itself; [`Error::NotFound`] for an unknown user.
#[instrument(skip_all, fields(target_id = target_id, is_admin = is_admin))]
pub async fn set_admin(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    target_id: i64,
    is_admin: bool,
) -> Result<user::Model> {
    actor.require_admin()?;
    if !is_admin && actor.is(target_id) {
        return Err(Error::invalid("id", "an admin cannot demote itself"));
    }

    let changes = user::Entity::update_many()
        .col_expr(user::Column::IsAdmin, Expr::value(is_admin))
        .col_expr(user::Column::UpdatedAt, Expr::value(time::now()));
    let action = if is_admin {
        AuditAction::Promote
    } else {
        AuditAction::Demote
    };
    apply(db, actor, target_id, changes, action, None).await
}

/// What an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    Ban,
    Unban,
    Promote,
    Demote,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ban => "ban",
            Self::Unban => "unban",
            Self::Promote => "promote",
            Self::Demote => "demote",
        }
    }
}

/// Runs one change to a user, records it in the audit log and reads the user back, all in
/// one transaction: there is no change without its entry, and no entry without its change.
async fn apply(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    target_id: i64,
    changes: sea_orm::UpdateMany<user::Entity>,
    action: AuditAction,
    reason: Option<&str>,
) -> Result<user::Model> {
    let txn = begin_write(db).await?;

    let updated = changes
        .filter(user::Column::Id.eq(target_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    let entry = audit_entry::ActiveModel {
        actor_id: Set(actor.user_id()),
        action: Set(action.as_str().to_owned()),
        target_user_id: Set(target_id),
        reason: Set(reason.map(str::to_owned)),
        created_at: Set(time::now()),
        ..Default::default()
    };
    entry.insert(&txn).await?;
    let user = users::reread(&txn, target_id).await?;

    txn.commit().await?;
    Ok(user)
}

/// A page of the audit log, newest first, optionally only the entries about one user.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin.
pub async fn audit_log(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    page: PageRequest,
    target_user_id: Option<i64>,
) -> Result<Page<audit_entry::Model>> {
    actor.require_admin()?;

    let mut query = audit_entry::Entity::find();
    if let Some(target) = target_user_id {
        query = query.filter(audit_entry::Column::TargetUserId.eq(target));
    }

    let columns = (audit_entry::Column::CreatedAt, audit_entry::Column::Id);
    page::newest_first(db, query, columns, page, |entry| {
        Cursor::after(entry.created_at, entry.id)
    })
    .await
}
