pub mod admin;
pub mod auth;
pub mod health;
pub mod transactions;
pub mod users;

use service::page::{Cursor, MAX_LIMIT, PageRequest};

use crate::problem::{ApiError, FieldError};

/// Reads the `limit` and `cursor` every list route takes, noting a problem for each bad one.
///
/// They are fields of each route's own query type rather than a shared flattened struct:
/// `serde(flatten)` loses the query parser's ability to read numbers from text.
pub fn parse_page(
    limit: Option<u64>,
    cursor: Option<&str>,
    problems: &mut Problems,
) -> PageRequest {
    let mut page = PageRequest::default();
    match limit {
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => page.limit = limit,
        Some(_) => problems.add("limit", format!("must be 1 to {MAX_LIMIT}")),
        None => {}
    }
    if let Some(cursor) = cursor {
        page.after = problems.check("cursor", Cursor::decode(cursor));
    }
    page
}

/// Collects every problem found in one request, so a client learns them all at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// Starts with what `validator` found.
    pub fn from_validation(result: Result<(), validator::ValidationErrors>) -> Self {
        let Err(errors) = result else {
            return Self::default();
        };
        let mut found: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, problems)| {
                problems.iter().map(move |problem| {
                    let message = problem.message.as_deref().unwrap_or(&problem.code);
                    FieldError::new(field.to_string(), message.to_owned())
                })
            })
            .collect();
        found.sort_by(|a, b| a.field.cmp(&b.field));
        Self(found)
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// The value of a required field, or `None` with "is required" noted under `field`.
    pub fn require<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    /// The parsed value, or `None` with its problem noted under `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    /// `Ok` when nothing was found wrong, else the `422` listing it all.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.0)
    }
}

/// Blank text means "none".
pub fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}
