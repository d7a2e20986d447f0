use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use service::ledger::{EntryKind, HistoryFilter, Movement, NewTransaction, Recorded};
use service::money::Currencies;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{Problems, parse_page};
use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, IdempotencyKeyHeader};
use crate::openapi::{AuthenticatedErrors, BodyErrors, Invalid};
use crate::problem::{ApiError, Problem};
use crate::views::{BalancesView, PageView, TransactionView};

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestedKind {
    Deposit,
    Withdrawal,
    Transfer,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransactionRequest {
    #[schema(required = true)]
    kind: Option<RequestedKind>,
    /// A decimal string such as "12.50"; a JSON number is refused, as it may already have
    /// lost precision on the client's side.
    #[schema(required = true, example = "12.50")]
    amount: Option<String>,
    /// One of the configured codes (by default USD, EUR, JPY, BTC).
    #[schema(required = true, example = "USD")]
    currency: Option<String>,
    #[validate(length(max = 500, message = "must be at most 500 characters"))]
    description: Option<String>,
    /// The recipient: required for a transfer, refused otherwise.
    to_user_id: Option<i64>,
}

impl CreateTransactionRequest {
    fn parse(self, currencies: &Currencies) -> Result<NewTransaction, ApiError> {
        let mut problems = Problems::from_validation(self.validate());

        let kind = problems.require("kind", self.kind);
        let amount = problems.require("amount", self.amount);
        let currency = problems
            .require("currency", self.currency)
            .and_then(|code| {
                let found = currencies.get(&code);
                if found.is_none() {
                    let known: Vec<&str> = currencies.codes().collect();
                    problems.add("currency", format!("must be one of {}", known.join(", ")));
                }
                found
            });
        let amount = match (currency, amount) {
            (Some(currency), Some(text)) => problems.check("amount", currency.parse_amount(&text)),
            _ => None,
        };

        let movement = match (kind, self.to_user_id) {
            (None, _) => None,
            (Some(RequestedKind::Transfer), Some(to_user_id)) => {
                Some(Movement::Transfer { to_user_id })
            }
            (Some(RequestedKind::Transfer), None) => {
                problems.add("to_user_id", "is required for a transfer");
                None
            }
            (Some(_), Some(_)) => {
                problems.add("to_user_id", "is only for transfers");
                None
            }
            (Some(RequestedKind::Deposit), None) => Some(Movement::Deposit),
            (Some(RequestedKind::Withdrawal), None) => Some(Movement::Withdrawal),
        };

        let (Some(amount), Some(movement)) = (amount, movement) else {
            return Err(problems.into_error());
        };
        problems.finish()?;
        Ok(NewTransaction {
            movement,
            amount,
            description: self.description,
        })
    }
}

/// Records a deposit, withdrawal or transfer. With an `Idempotency-Key`, a retry of the
/// same request answers the first result again and writes nothing (marked by
/// `Idempotent-Replayed: true`).
#[utoipa::path(
    post,
    path = "/api/v1/transactions/",
    tag = "transactions",
    security(("password" = []), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header,
            description = "1 to 255 visible ASCII characters, unique per request")),
    request_body = CreateTransactionRequest,
    responses(
        (status = 201, description = "The caller's row (a transfer's `transfer_out`)",
         body = TransactionView,
         headers(("Idempotent-Replayed" = String,
                  description = "With an Idempotency-Key: `true` when this is a replay"))),
        (status = 409, description = "`insufficient_funds` or `idempotency_conflict`",
         body = Problem, content_type = "application/problem+json"),
        Invalid,
        BodyErrors,
        AuthenticatedErrors,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(body): ApiJson<CreateTransactionRequest>,
) -> Result<Response, ApiError> {
    let new = body.parse(&state.currencies)?;

    let recorded = service::ledger::record(&state.db, user.id, &new, key.as_ref()).await?;
    let (entry, replayed) = match recorded {
        Recorded::Written(entry) => (entry, false),
        Recorded::Replayed(entry) => (entry, true),
    };
    let view = Json(TransactionView::new(entry, &state.currencies));
    let mut response = (StatusCode::CREATED, view).into_response();
    if key.is_some() {
        let value = HeaderValue::from_static(if replayed { "true" } else { "false" });
        response.headers_mut().insert(REPLAYED, value);
    }
    Ok(response)
}

const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// 1 to 100; 20 when absent.
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `deposit`, `withdrawal`, `transfer_out` or `transfer_in`.
    kind: Option<String>,
    currency: Option<String>,
}

/// The caller's transactions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/transactions/",
    tag = "transactions",
    security(("password" = []), ("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page, newest first", body = PageView<TransactionView>),
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<PageView<TransactionView>>, ApiError> {
    let mut problems = Problems::default();
    let page = parse_page(query.limit, query.cursor.as_deref(), &mut problems);
    let kind = query
        .kind
        .as_deref()
        .and_then(|kind| problems.check("kind", parse_kind(kind)));
    if let Some(code) = &query.currency
        && state.currencies.get(code).is_none()
    {
        problems.add("currency", "is not a configured currency");
    }
    problems.finish()?;

    let filter = HistoryFilter {
        kind,
        currency: query.currency,
    };
    let rows = service::ledger::history(&state.db, user.id, &filter, page).await?;
    Ok(Json(PageView::new(rows, |row| {
        TransactionView::new(row, &state.currencies)
    })))
}

fn parse_kind(text: &str) -> Result<EntryKind, String> {
    EntryKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| "must be one of deposit, withdrawal, transfer_out, transfer_in".to_owned())
}

/// One of the caller's transactions.
#[utoipa::path(
    get,
    path = "/api/v1/transactions/{id}",
    tag = "transactions",
    security(("password" = []), ("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The transaction", body = TransactionView),
        (status = 404, description = "`not_found`, also for another user's transaction",
         body = Problem, content_type = "application/problem+json"),
        Invalid,
        AuthenticatedErrors,
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TransactionView>, ApiError> {
    let entry = service::ledger::get(&state.db, user.id, id).await?;
    Ok(Json(TransactionView::new(entry, &state.currencies)))
}

/// Every currency the caller has held, zeros included, sorted by code.
#[utoipa::path(
    get,
    path = "/api/v1/balances",
    tag = "transactions",
    security(("password" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every balance, sorted by currency", body = BalancesView),
        AuthenticatedErrors,
    )
)]
pub async fn balances(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<BalancesView>, ApiError> {
    let rows = service::ledger::balances(&state.db, user.id).await?;
    Ok(Json(BalancesView::new(rows, &state.currencies)))
}
