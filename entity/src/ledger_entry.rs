use sea_orm::entity::prelude::*;

/// One row of a user's append-only journal. Stored in the `transactions` table; the Rust name
/// avoids a clash with database transactions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `deposit`, `withdrawal`, `transfer_out` or `transfer_in`.
    pub kind: String,
    /// In the currency's minor unit (cents for USD, satoshis for BTC).
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub counterparty_id: Option<i64>,
    pub status: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
