//! Keyset pagination over `(created_at, id)`, newest first.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use crate::{Result, database};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// 9999-12-31T23:59:59.999999Z, the last instant every backend can store.
const LATEST_MICROS: i64 = 253_402_300_799_999_999;

/// The position after which the next page starts: the last row's creation time and id.
///
/// Clients see it only as an opaque string; the version prefix lets its form change later
/// without misreading old cursors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    created_at: DateTime<Utc>,
    id: i64,
}

impl Cursor {
    pub fn after(created_at: DateTime<Utc>, id: i64) -> Self {
        Self { created_at, id }
    }

    pub fn encode(&self) -> String {
        let text = format!("v1.{}.{}", self.created_at.timestamp_micros(), self.id);
        URL_SAFE_NO_PAD.encode(text)
    }

    /// # Errors
    /// A message when the text is not a cursor this server made.
    pub fn decode(text: &str) -> Result<Self, String> {
        let invalid = || "is not a cursor returned by this API".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;

        let mut parts = text.split('.');
        let (Some("v1"), Some(micros), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let id: i64 = id.parse().map_err(|_| invalid())?;
        // Only times this server could have written: a forged one far outside them would
        // reach the database as a value some backends cannot even bind.
        if !(0..=LATEST_MICROS).contains(&micros) || id < 0 {
            return Err(invalid());
        }
        let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;

        Ok(Self { created_at, id })
    }

    /// Rows strictly after this position in newest-first order, written as
    /// `created_at < x OR (created_at = x AND id < y)`: the planners of every backend use an
    /// index for it, which is not true of a row-value comparison on MariaDB.
    pub fn rows_after<C: ColumnTrait>(&self, created_at: C, id: C) -> Condition {
        let same_time_lower_id = Condition::all()
            .add(created_at.eq(self.created_at))
            .add(id.lt(self.id));
        Condition::any()
            .add(created_at.lt(self.created_at))
            .add(same_time_lower_id)
    }
}

/// Which page to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// One page of rows, and where the next one starts if there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// Reads one page of `query`, newest first by `(created_at, id)`: the order, the keyset
/// condition and the one extra row that tells whether another page follows live here,
/// once, for every list.
///
/// # Errors
/// Only database failures.
pub async fn newest_first<E: EntityTrait>(
    db: &DatabaseConnection,
    query: Select<E>,
    (created_at, id): (E::Column, E::Column),
    page: PageRequest,
    position: impl Fn(&E::Model) -> Cursor,
) -> Result<Page<E::Model>> {
    let mut query = query
        .order_by_desc(created_at)
        .order_by_desc(id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(after.rows_after(created_at, id));
    }

    let rows = database::read(db, || query.clone().all(db)).await?;
    Ok(Page::from_rows(rows, page.limit, position))
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in page order: the extra row, if
    /// present, only shows that another page follows.
    pub fn from_rows(mut rows: Vec<T>, limit: u64, position: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next = if has_more {
            rows.last().map(position)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_survives_a_round_trip() {
        let at = DateTime::from_timestamp_micros(1_767_323_045_120_001).expect("valid time");
        let cursor = Cursor::after(at, 42);

        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for text in [
            "",
            "abc",
            "djEuMS4y!",
            &URL_SAFE_NO_PAD.encode("v2.1.2"),
            &URL_SAFE_NO_PAD.encode("v1.x.2"),
            &URL_SAFE_NO_PAD.encode("v1.-8000000000000000000.5"),
            &URL_SAFE_NO_PAD.encode("v1.253402300800000000.5"),
        ] {
            assert!(Cursor::decode(text).is_err(), "{text:?} was accepted");
        }
    }
}
