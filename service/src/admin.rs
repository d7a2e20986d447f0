//! What administrators (and operators at the command line) may do to accounts.

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tracing::instrument;

use crate::database::begin_write;
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
#[instrument(skip_all, fields(target_id, reason))]
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
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    apply(db, target_id, changes).await
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
#[instrument(skip_all, fields(target_id))]
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
    apply(db, target_id, changes).await
}

/// Grants or withdraws the admin right.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin; [`Error::Invalid`] on `id` when an admin would
/// demote itself; [`Error::NotFound`] for an unknown user.
#[instrument(skip_all, fields(target_id, is_admin))]
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
    apply(db, target_id, changes).await
}

/// Runs one change to a user and reads the result back, in one transaction.
async fn apply(
    db: &DatabaseConnection,
    target_id: i64,
    changes: sea_orm::UpdateMany<user::Entity>,
) -> Result<user::Model> {
    let txn = begin_write(db).await?;

    let updated = changes
        .filter(user::Column::Id.eq(target_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    let user = users::get(&txn, target_id).await?;

    txn.commit().await?;
    Ok(user)
}
