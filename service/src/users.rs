//! Accounts: registration, login, the per-request load of the caller, and profiles.

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, QueryFilter,
};
use tracing::instrument;

use crate::error::violates_unique;
use crate::page::{self, Cursor, Page, PageRequest};
use crate::passwords::Passwords;
use crate::throttle::LoginThrottle;
use crate::tokens::{IssuedToken, TokenSubject, Tokens};
use crate::{Error, Result, database, time};

/// The length bounds of a password, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

/// An email address as stored: trimmed and lower-cased, so that comparing two of them is
/// comparing strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// A message when the text, once trimmed, is not shaped like `name@domain`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let email = text.trim().to_lowercase();
        let shaped = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            }
            None => false,
        };
        let clean = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !shaped || !clean || email.len() > 255 {
            return Err("must be an email address such as ada@example.com".to_owned());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed by its owner. Its `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// # Errors
    /// A message when the password is not 8 to 128 characters long.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !PASSWORD_CHARS.contains(&text.chars().count()) {
            return Err(format!(
                "must be {} to {} characters long",
                PASSWORD_CHARS.start(),
                PASSWORD_CHARS.end()
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// What registration needs, already parsed.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub password: Password,
    pub full_name: Option<String>,
    pub is_admin: bool,
}

/// Creates an account.
///
/// # Errors
/// [`Error::EmailTaken`] when the address is registered already, even by a registration
/// racing this one; the database's unique index decides.
#[instrument(skip_all)]
pub async fn register(
    db: &DatabaseConnection,
    passwords: &Passwords,
    new: NewUser,
) -> Result<user::Model> {
    let password_hash = passwords.hash(new.password.expose()).await?;
    let now = time::now();

    let row = user::ActiveModel {
        email: Set(new.email.0),
        password_hash: Set(password_hash),
        full_name: Set(new.full_name),
        is_active: Set(true),
        is_admin: Set(new.is_admin),
        ban_reason: Set(None),
        banned_at: Set(None),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    row.insert(db).await.map_err(|err| {
        if violates_unique(&err, "uq_users_email", "users.email") {
            Error::EmailTaken
        } else {
            err.into()
        }
    })
}

/// Checks an email and password and issues a token.
///
/// # Errors
/// [`Error::InvalidCredentials`] for an unknown email or a wrong password alike (both take
/// one hash's time); [`Error::UserBanned`] for a banned user who gave the right password;
/// [`Error::RateLimited`], before any check, while the address is locked out.
#[instrument(skip_all)]
pub async fn login(
    db: &DatabaseConnection,
    passwords: &Passwords,
    tokens: &Tokens,
    throttle: &LoginThrottle,
    email: &str,
    password: &str,
) -> Result<(user::Model, IssuedToken)> {
    let email = Email::parse(email).ok();
    let user = match &email {
        Some(email) => find_by_email(db, email).await?,
        None => None,
    };

    // Counted once the lookup answered, so a database outage costs no one an attempt. Only
    // an address that could belong to an account is counted: no other can ever log in,
    // and made-up text must not fill the throttle's memory.
    if let Some(email) = &email {
        count_attempt(throttle, email.as_str())?;
    }

    // Verified even for an unknown email (against a dummy hash), so both take as long.
    let stored_hash = user.as_ref().map(|user| user.password_hash.as_str());
    let password_matches = passwords.verify(password, stored_hash).await?;
    let user = match user {
        Some(user) if password_matches => user,
        _ => return Err(Error::InvalidCredentials),
    };
    throttle.succeeded(&user.email);
    let user = refuse_if_banned(user)?;

    let token = tokens.issue(user.id, user.token_version)?;
    Ok((user, token))
}

/// Loads the caller of an authenticated request, fresh from the database, and decides
/// whether it may go on. Nothing about the user is kept between requests, so a change made
/// anywhere (another instance, or plain SQL) holds from the next request on.
///
/// # Errors
/// [`Error::UserNotFound`], [`Error::UserBanned`] or [`Error::TokenRevoked`], checked in
/// that order; [`Error::Unavailable`] when the database cannot answer, which must never be
/// taken as a pass.
#[instrument(skip_all, fields(user_id = subject.user_id))]
pub async fn authenticate(db: &DatabaseConnection, subject: TokenSubject) -> Result<user::Model> {
    let load = || user::Entity::find_by_id(subject.user_id).one(db);
    let user = database::read(db, load).await?.ok_or(Error::UserNotFound)?;

    let user = refuse_if_banned(user)?;
    if subject.token_version < user.token_version {
        return Err(Error::TokenRevoked);
    }
    Ok(user)
}

/// The new token version that ends every token issued so far: each token carries the
/// version it was issued at, and one below the user's is refused.
pub(crate) fn next_token_version() -> Expr {
    Expr::col(user::Column::TokenVersion).add(1)
}

/// Counts a login attempt for `email`, or refuses it while the address is locked out.
fn count_attempt(throttle: &LoginThrottle, email: &str) -> Result<()> {
    throttle
        .attempt(email)
        .map_err(|retry_after| Error::RateLimited { retry_after })
}

/// The caller may go on only while not banned.
fn refuse_if_banned(user: user::Model) -> Result<user::Model> {
    if user.is_active {
        Ok(user)
    } else {
        Err(Error::UserBanned {
            reason: user.ban_reason,
        })
    }
}

/// Ends every token issued to the user so far, on every instance at once: each token
/// carries the version it was issued at, and the version moves on.
///
/// # Errors
/// [`Error::NotFound`] if the user vanished meanwhile.
#[instrument(skip_all, fields(user_id = user_id))]
pub async fn revoke_tokens(db: &DatabaseConnection, user_id: i64) -> Result<()> {
    let revoked = user::Entity::update_many()
        .col_expr(user::Column::TokenVersion, next_token_version())
        .col_expr(user::Column::UpdatedAt, Expr::value(time::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    if revoked.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Replaces the user's password after checking the current one, ends every token issued
/// before, and issues a new one.
///
/// # Errors
/// [`Error::Invalid`] on `current_password` when it is wrong, or was changed meanwhile;
/// [`Error::RateLimited`] after too many wrong ones.
#[instrument(skip_all, fields(user_id = user.id))]
pub async fn change_password(
    db: &DatabaseConnection,
    passwords: &Passwords,
    tokens: &Tokens,
    throttle: &LoginThrottle,
    user: &user::Model,
    current: &str,
    new: Password,
) -> Result<IssuedToken> {
    let wrong_current = || Error::invalid("current_password", "is not the current password");
    // Guessing the current password here counts like guessing it at login.
    count_attempt(throttle, &user.email)?;
    if !passwords.verify(current, Some(&user.password_hash)).await? {
        return Err(wrong_current());
    }
    throttle.succeeded(&user.email);
    let password_hash = passwords.hash(new.expose()).await?;

    let txn = database::begin_write(db).await?;
    let changed = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::TokenVersion, next_token_version())
        .col_expr(user::Column::UpdatedAt, Expr::value(time::now()))
        .filter(user::Column::Id.eq(user.id))
        // Only if the password checked above is still the current one: of two changes
        // racing with the same old password, the second finds it gone.
        .filter(user::Column::PasswordHash.eq(user.password_hash.as_str()))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(wrong_current());
    }
    let updated = reread(&txn, user.id).await?;
    txn.commit().await?;

    tokens.issue(updated.id, updated.token_version)
}

/// Sets or clears the caller's display name.
///
/// # Errors
/// [`Error::NotFound`] if the user vanished meanwhile.
#[instrument(skip_all, fields(user_id = user_id))]
pub async fn update_full_name(
    db: &DatabaseConnection,
    user_id: i64,
    full_name: Option<String>,
) -> Result<user::Model> {
    let row = user::ActiveModel {
        id: Set(user_id),
        full_name: Set(full_name),
        updated_at: Set(time::now()),
        ..Default::default()
    };
    row.update(db).await.map_err(|err| match err {
        DbErr::RecordNotUpdated => Error::NotFound,
        err => err.into(),
    })
}

/// One user by id.
///
/// # Errors
/// [`Error::NotFound`] when there is no such user.
pub async fn get(db: &DatabaseConnection, user_id: i64) -> Result<user::Model> {
    let find = || user::Entity::find_by_id(user_id).one(db);
    database::read(db, find).await?.ok_or(Error::NotFound)
}

/// One user by id, read inside a transaction that just changed it.
///
/// # Errors
/// [`Error::NotFound`] when there is no such user.
pub(crate) async fn reread(txn: &DatabaseTransaction, user_id: i64) -> Result<user::Model> {
    let user = user::Entity::find_by_id(user_id).one(txn).await?;
    user.ok_or(Error::NotFound)
}

/// A page of users, newest first, optionally only those whose email or name contains `q`
/// (ignoring case).
///
/// # Errors
/// Only database failures.
pub async fn list(
    db: &DatabaseConnection,
    page: PageRequest,
    q: Option<&str>,
) -> Result<Page<user::Model>> {
    let mut query = user::Entity::find();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = LikeExpr::new(format!("%{}%", escape_like(&q.to_lowercase()))).escape('\\');
        let name = Expr::expr(Func::lower(Expr::col(user::Column::FullName)));
        query = query.filter(
            sea_orm::Condition::any()
                .add(user::Column::Email.like(pattern.clone()))
                .add(name.like(pattern)),
        );
    }

    let columns = (user::Column::CreatedAt, user::Column::Id);
    page::newest_first(db, query, columns, page, |user| {
        Cursor::after(user.created_at, user.id)
    })
    .await
}

async fn find_by_email(db: &DatabaseConnection, email: &Email) -> Result<Option<user::Model>> {
    let query = user::Entity::find().filter(user::Column::Email.eq(email.as_str()));
    Ok(database::read(db, || query.clone().one(db)).await?)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for text in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a b@example.com",
            "a@b@c",
        ] {
            assert!(Email::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(Password::parse("ééééééé").is_err());
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }
}
