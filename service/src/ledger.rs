//! The ledger: an append-only journal of transactions and the balances that follow from it,
//! always changed together in one database transaction.

use entity::{balance, idempotency_key, ledger_entry, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::database::{self, begin_write};
use crate::error::is_unique_violation;
use crate::money::Money;
use crate::page::{self, Cursor, Page, PageRequest};
use crate::{Error, Result, time};

/// How often a write transaction that the database rolled back as a deadlock victim is run
/// again. Such a transaction wrote nothing, so running it again cannot write twice.
const CONFLICT_ATTEMPTS: u32 = 3;

/// The kinds of journal rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Deposit,
    Withdrawal,
    TransferOut,
    TransferIn,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [
        Self::Deposit,
        Self::Withdrawal,
        Self::TransferOut,
        Self::TransferIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deposit => "deposit",
            Self::Withdrawal => "withdrawal",
            Self::TransferOut => "transfer_out",
            Self::TransferIn => "transfer_in",
        }
    }
}

/// The only status written today; others are reserved.
pub const STATUS_COMPLETED: &str = "completed";

/// What a client asks the ledger to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Movement {
    Deposit,
    Withdrawal,
    Transfer { to_user_id: i64 },
}

/// A request to record a transaction, already parsed.
#[derive(Clone, Debug)]
pub struct NewTransaction {
    pub movement: Movement,
    pub amount: Money,
    pub description: Option<String>,
}

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters, unique per user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    /// # Errors
    /// A message when the key is empty, too long, or not visible ASCII.
    pub fn parse(text: &str) -> Result<Self, String> {
        let visible = text.bytes().all(|b| b.is_ascii_graphic());
        if text.is_empty() || text.len() > Self::MAX_LEN || !visible {
            return Err(format!(
                "must be 1 to {} visible ASCII characters",
                Self::MAX_LEN
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

/// What recording a transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The transaction was written now.
    Written(ledger_entry::Model),
    /// The idempotency key was used before for the same request; this is its result, and
    /// nothing new was written.
    Replayed(ledger_entry::Model),
}

/// Records a deposit, withdrawal or transfer for `user_id` and returns the caller's row
/// (for a transfer, the sender's `transfer_out`).
///
/// With an idempotency key, the first request to use it claims it in the same database
/// transaction as the ledger rows; any later or concurrent request with the same key gets
/// that first result, and writes nothing. A request that fails does not keep the key.
///
/// # Errors
/// [`Error::InsufficientFunds`] when a withdrawal or transfer exceeds the balance;
/// [`Error::Invalid`] on `to_user_id` for a missing, banned or own recipient and on
/// `amount` when a balance would overflow; [`Error::IdempotencyConflict`] when the key was
/// used for a different request. Nothing is written in any of these cases.
#[instrument(skip_all, fields(user_id = user_id, amount = %new.amount))]
pub async fn record(
    db: &DatabaseConnection,
    user_id: i64,
    new: &NewTransaction,
    key: Option<&IdempotencyKey>,
) -> Result<Recorded> {
    if let Movement::Transfer { to_user_id } = new.movement
        && to_user_id == user_id
    {
        return Err(Error::invalid("to_user_id", "cannot transfer to yourself"));
    }
    let claim = key.map(|key| Claim {
        key,
        request_hash: request_hash(new),
    });

    let mut attempt = 1;
    loop {
        let last = attempt == CONFLICT_ATTEMPTS;
        match record_once(db, user_id, new, claim.as_ref()).await {
            Ok(Some(recorded)) => return Ok(recorded),
            // The key's first user let go of it (its request failed): try to claim it.
            Ok(None) if !last => {}
            Ok(None) => return Err(Error::internal(KeyWithoutClaim)),
            Err(err) if !last && err.is_retryable_conflict() => {
                tracing::info!(attempt, "write conflict; running the transaction again");
            }
            Err(err) => return Err(err),
        }
        attempt += 1;
    }
}

#[derive(Debug, thiserror::Error)]
#[error("an idempotency key stayed taken, but no finished claim of it could be read")]
struct KeyWithoutClaim;

/// An idempotency key and the digest of the request that wants it.
struct Claim<'a> {
    key: &'a IdempotencyKey,
    request_hash: String,
}

/// One try: writes the transaction in one database transaction, or, when another request
/// holds the key, answers that request's result. `None` when the key was held but its
/// claim is gone by the time it is read.
async fn record_once(
    db: &DatabaseConnection,
    user_id: i64,
    new: &NewTransaction,
    claim: Option<&Claim<'_>>,
) -> Result<Option<Recorded>> {
    let txn = begin_write(db).await?;
    // Claimed first: a concurrent request with the same key waits here for this one to
    // finish, then replays its result instead of moving money a second time.
    if let Some(claim) = claim
        && !claim_key(&txn, user_id, claim).await?
    {
        txn.rollback().await?;
        return Ok(replay(db, user_id, claim).await?.map(Recorded::Replayed));
    }
    let now = time::now();

    let entry = match new.movement {
        Movement::Deposit => {
            credit(&txn, user_id, &new.amount).await?;
            append(&txn, user_id, EntryKind::Deposit, None, new, now).await?
        }
        Movement::Withdrawal => {
            debit(&txn, user_id, &new.amount).await?;
            append(&txn, user_id, EntryKind::Withdrawal, None, new, now).await?
        }
        Movement::Transfer { to_user_id } => transfer(&txn, user_id, to_user_id, new, now).await?,
    };
    if let Some(claim) = claim {
        link_key(&txn, user_id, claim.key, entry.id).await?;
    }

    txn.commit().await?;
    Ok(Some(Recorded::Written(entry)))
}

/// Claims the key for this request; false if someone claimed it first.
///
/// Known shortcoming: claims are kept forever. Nothing removes old keys yet; a clean-up
/// of keys older than some retention period belongs here when the table grows.
async fn claim_key(txn: &DatabaseTransaction, user_id: i64, claim: &Claim<'_>) -> Result<bool> {
    let row = idempotency_key::ActiveModel {
        user_id: Set(user_id),
        idempotency_key: Set(claim.key.0.clone()),
        request_hash: Set(claim.request_hash.clone()),
        transaction_id: Set(None),
        created_at: Set(time::now()),
    };
    match idempotency_key::Entity::insert(row)
        .exec_without_returning(txn)
        .await
    {
        Ok(_) => Ok(true),
        Err(err) if is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

async fn link_key(
    txn: &DatabaseTransaction,
    user_id: i64,
    key: &IdempotencyKey,
    transaction_id: i64,
) -> Result<()> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::TransactionId,
            Expr::value(transaction_id),
        )
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(idempotency_key::Column::IdempotencyKey.eq(key.0.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The first result for a key already claimed, or `None` if no claim is there any more.
async fn replay(
    db: &DatabaseConnection,
    user_id: i64,
    claim: &Claim<'_>,
) -> Result<Option<ledger_entry::Model>> {
    let find = || idempotency_key::Entity::find_by_id((user_id, claim.key.0.clone())).one(db);
    let Some(claimed) = database::read(db, find).await? else {
        return Ok(None);
    };
    if claimed.request_hash != claim.request_hash {
        return Err(Error::IdempotencyConflict);
    }
    let transaction_id = claimed
        .transaction_id
        .ok_or_else(|| Error::internal(KeyWithoutClaim))?;
    get(db, user_id, transaction_id).await.map(Some)
}

/// A digest of the request as parsed, so that `"12.5"` and `"12.50"` are the same request.
fn request_hash(new: &NewTransaction) -> String {
    let (kind, to_user_id) = match new.movement {
        Movement::Deposit => ("deposit", None),
        Movement::Withdrawal => ("withdrawal", None),
        Movement::Transfer { to_user_id } => ("transfer", Some(to_user_id)),
    };
    let amount = (new.amount.minor(), new.amount.currency().code());
    let canonical = serde_json::json!([kind, to_user_id, amount, new.description]).to_string();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn transfer(
    txn: &DatabaseTransaction,
    from: i64,
    to: i64,
    new: &NewTransaction,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ledger_entry::Model> {
    // Held until commit, so a ban of the recipient cannot slip in between this check and
    // the credit (SQLite needs no row lock: the whole transaction holds the write lock).
    let recipient = user::Entity::find_by_id(to).lock_shared().one(txn).await?;
    if !recipient.is_some_and(|recipient| recipient.is_active) {
        return Err(Error::invalid("to_user_id", "no active user has this id"));
    }

    // Both balances are touched in the order of their owners' ids, so two opposite
    // transfers running together cannot each hold the lock the other waits for.
    if from < to {
        debit(txn, from, &new.amount).await?;
        credit(txn, to, &new.amount).await?;
    } else {
        credit(txn, to, &new.amount).await?;
        debit(txn, from, &new.amount).await?;
    }

    let sent = append(txn, from, EntryKind::TransferOut, Some(to), new, now).await?;
    append(txn, to, EntryKind::TransferIn, Some(from), new, now).await?;
    Ok(sent)
}

/// Adds to a balance, creating it at zero first if needed.
async fn credit(txn: &DatabaseTransaction, user_id: i64, amount: &Money) -> Result<()> {
    let currency = amount.currency().code();
    let now = time::now();
    let empty = balance::ActiveModel {
        user_id: Set(user_id),
        currency: Set(currency.to_owned()),
        amount: Set(0),
        updated_at: Set(now),
    };
    balance::Entity::insert(empty)
        .on_conflict_do_nothing()
        .exec(txn)
        .await?;

    // The condition refuses an overflow instead of letting the database wrap or fail.
    let headroom = i64::MAX - amount.minor();
    let updated = balance::Entity::update_many()
        .col_expr(
            balance::Column::Amount,
            Expr::col(balance::Column::Amount).add(amount.minor()),
        )
        .col_expr(balance::Column::UpdatedAt, Expr::value(now))
        .filter(balance::Column::UserId.eq(user_id))
        .filter(balance::Column::Currency.eq(currency))
        .filter(balance::Column::Amount.lte(headroom))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::invalid(
            "amount",
            "the balance would exceed the largest amount held",
        ));
    }
    Ok(())
}

/// Takes from a balance only if it holds enough: the check and the change are one
/// statement, so concurrent withdrawals cannot both pass the check.
async fn debit(txn: &DatabaseTransaction, user_id: i64, amount: &Money) -> Result<()> {
    let updated = balance::Entity::update_many()
        .col_expr(
            balance::Column::Amount,
            Expr::col(balance::Column::Amount).sub(amount.minor()),
        )
        .col_expr(balance::Column::UpdatedAt, Expr::value(time::now()))
        .filter(balance::Column::UserId.eq(user_id))
        .filter(balance::Column::Currency.eq(amount.currency().code()))
        .filter(balance::Column::Amount.gte(amount.minor()))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::InsufficientFunds);
    }
    Ok(())
}

async fn append(
    txn: &DatabaseTransaction,
    user_id: i64,
    kind: EntryKind,
    counterparty_id: Option<i64>,
    new: &NewTransaction,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ledger_entry::Model> {
    let row = ledger_entry::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        amount: Set(new.amount.minor()),
        currency: Set(new.amount.currency().code().to_owned()),
        description: Set(new.description.clone()),
        counterparty_id: Set(counterparty_id),
        status: Set(STATUS_COMPLETED.to_owned()),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(txn).await?)
}

/// Which of a user's transactions to list.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    pub kind: Option<EntryKind>,
    pub currency: Option<String>,
}

/// A page of the user's transactions, newest first.
///
/// # Errors
/// Only database failures.
pub async fn history(
    db: &DatabaseConnection,
    user_id: i64,
    filter: &HistoryFilter,
    page: PageRequest,
) -> Result<Page<ledger_entry::Model>> {
    let mut query = ledger_entry::Entity::find().filter(ledger_entry::Column::UserId.eq(user_id));
    if let Some(kind) = filter.kind {
        query = query.filter(ledger_entry::Column::Kind.eq(kind.as_str()));
    }
    if let Some(currency) = &filter.currency {
        query = query.filter(ledger_entry::Column::Currency.eq(currency.as_str()));
    }

    let columns = (ledger_entry::Column::CreatedAt, ledger_entry::Column::Id);
    page::newest_first(db, query, columns, page, |row| {
        Cursor::after(row.created_at, row.id)
    })
    .await
}

/// One of the user's transactions.
///
/// # Errors
/// [`Error::NotFound`] when it does not exist or belongs to someone else: the answer does
/// not tell which.
pub async fn get(db: &DatabaseConnection, user_id: i64, id: i64) -> Result<ledger_entry::Model> {
    let query =
        ledger_entry::Entity::find_by_id(id).filter(ledger_entry::Column::UserId.eq(user_id));
    database::read(db, || query.clone().one(db))
        .await?
        .ok_or(Error::NotFound)
}

/// Every balance the user has ever held, zeros included, sorted by currency code.
///
/// # Errors
/// Only database failures.
pub async fn balances(db: &DatabaseConnection, user_id: i64) -> Result<Vec<balance::Model>> {
    let query = balance::Entity::find()
        .filter(balance::Column::UserId.eq(user_id))
        .order_by_asc(balance::Column::Currency);
    Ok(database::read(db, || query.clone().all(db)).await?)
}
