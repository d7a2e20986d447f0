//! What the API answers with: response bodies, distinct from the database's entities.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{audit_entry, balance, ledger_entry, user};
use serde::{Serialize, Serializer};
use service::money::Currencies;
use service::page::Page;
use service::tokens::IssuedToken;
use utoipa::ToSchema;

/// RFC 3339 in UTC with exactly six fraction digits, on every backend.
pub fn timestamp<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub full_name: Option<String>,
    pub is_active: bool,
    pub is_admin: bool,
    pub ban_reason: Option<String>,
    #[serde(serialize_with = "optional_timestamp")]
    pub banned_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(user: user::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            full_name: user.full_name,
            is_active: user.is_active,
            is_admin: user.is_admin,
            ban_reason: user.ban_reason,
            banned_at: user.banned_at,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenView {
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

impl From<IssuedToken> for TokenView {
    fn from(token: IssuedToken) -> Self {
        Self {
            access_token: token.access_token,
            token_type: "bearer",
            expires_in: token.expires_in,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Transaction)]
pub struct TransactionView {
    pub id: i64,
    /// `deposit`, `withdrawal`, `transfer_out` or `transfer_in`.
    #[schema(example = "deposit")]
    pub kind: String,
    /// A decimal string with the currency's full number of fraction digits.
    #[schema(example = "12.50")]
    pub amount: String,
    #[schema(example = "USD")]
    pub currency: String,
    pub description: Option<String>,
    pub counterparty_id: Option<i64>,
    /// Always `completed` today.
    #[schema(example = "completed")]
    pub status: String,
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl TransactionView {
    pub fn new(entry: ledger_entry::Model, currencies: &Currencies) -> Self {
        Self {
            id: entry.id,
            kind: entry.kind,
            amount: currencies.format(&entry.currency, entry.amount),
            currency: entry.currency,
            description: entry.description,
            counterparty_id: entry.counterparty_id,
            status: entry.status,
            created_at: entry.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Balance)]
pub struct BalanceView {
    pub currency: String,
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Balances)]
pub struct BalancesView {
    pub balances: Vec<BalanceView>,
}

impl BalancesView {
    pub fn new(rows: Vec<balance::Model>, currencies: &Currencies) -> Self {
        let balances = rows
            .into_iter()
            .map(|row| BalanceView {
                amount: currencies.format(&row.currency, row.amount),
                currency: row.currency,
            })
            .collect();
        Self { balances }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageView<T> {
    pub fn new<R>(page: Page<R>, view: impl FnMut(R) -> T) -> Self {
        let next_cursor = page.next.map(|cursor| cursor.encode());
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditEntryView {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub target_user_id: i64,
    pub reason: Option<String>,
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

impl From<audit_entry::Model> for AuditEntryView {
    fn from(entry: audit_entry::Model) -> Self {
        Self {
            id: entry.id,
            actor_id: entry.actor_id,
            action: entry.action,
            target_user_id: entry.target_user_id,
            reason: entry.reason,
            created_at: entry.created_at,
        }
    }
}
