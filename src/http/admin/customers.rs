//! `/api/admin/v1/customers?q=&segment=` and `/api/admin/v1/customers/{customer_id}[/ledger|/adjustments]`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::customers::{self, enrol, search, Adjustment, CustomerError, CustomerView};
use crate::services::ledger::LedgerError;
use crate::state::AppState;

impl From<CustomerError> for AppError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::NotFound(_) => AppError::not_found(e.to_string()),
            CustomerError::Invalid(_) | CustomerError::KeyReused(_) => {
                AppError::validation(e.to_string())
            }
            CustomerError::Ledger(LedgerError::BalanceLimit { .. }) => {
                AppError::validation(e.to_string())
            }
            CustomerError::Ledger(LedgerError::InsufficientPoints { .. }) => {
                AppError::new(ErrorCode::InsufficientPoints, e.to_string())
            }
            CustomerError::Ledger(LedgerError::Database(db)) => db.into(),
            CustomerError::Ledger(other) => AppError::internal(other),
        }
    }
}

pub async fn show(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customer_id = path.into_inner();
    let view = state
        .db
        .run(move |c| {
            let mut member = customers::find(c, &session.shop.id, &customer_id)?;
            // The contract shows every member's code: made now if the shop runs referrals.
            let referrals_on = crate::services::program::Program::of(&session.shop)
                .active_referrals()
                .is_some();
            if referrals_on && member.referral_code.is_none() {
                let code = crate::db::write_transaction(c, |c| {
                    crate::services::referrals::ensure_code(c, &session.shop.id, &member.id)
                })
                .map_err(AppError::from)?;
                member.referral_code = Some(code);
            }
            CustomerView::of(c, &session.shop, member).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /customers/{id}/tier-history`: every tier change (and start of a grace), oldest first.
pub async fn tier_history(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customer_id = path.into_inner();
    let events = state
        .db
        .run(move |c| {
            let member = customers::find(c, &session.shop.id, &customer_id)?;
            crate::services::tiers::history(c, &session.shop.id, &member).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "events": events })))
}

#[derive(Debug, Deserialize)]
pub struct LedgerQuery {
    limit: Option<i64>,
}

pub async fn ledger(
    session: ShopSession,
    path: web::Path<String>,
    query: web::Query<LedgerQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customer_id = path.into_inner();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let entries = state
        .db
        .run(move |c| {
            customers::ledger(c, &session.shop.id, &customer_id, limit).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    points: i64,
    reason: String,
}

/// The optional `Idempotency-Key` header. A key we cannot use is refused rather than ignored:
/// ignoring it would let the client's retry post the adjustment twice.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::bad_request(
            "Idempotency-Key must be 1–200 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

pub async fn adjust(
    req: HttpRequest,
    session: ShopSession,
    path: web::Path<String>,
    body: web::Json<AdjustmentBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customer_id = path.into_inner();
    let idempotency_key = idempotency_key(&req)?;
    let body = body.into_inner();
    let adjustment = Adjustment {
        points: body.points,
        reason: body.reason,
        idempotency_key,
    };
    let shop = session.shop.clone();
    let (id, first_try) = (customer_id.clone(), adjustment.clone());
    let attempt = state
        .db
        .run(move |c| Ok::<_, AppError>(customers::adjust(c, &shop, &id, &first_try)))
        .await?;
    let (customer, created) = match attempt {
        Err(CustomerError::NotFound(_)) => {
            // Someone the app has not seen yet: the platform may know them (404 only if not).
            let found = enrol::look_up(&state.shopify, &state.keys, &session.shop, &customer_id)
                .await
                .map_err(|e| match e {
                    enrol::LookupError::Platform { .. } => {
                        AppError::new(ErrorCode::PlatformError, e.to_string())
                    }
                    _ => AppError::not_found(e.to_string()),
                })?;
            let shop = session.shop.clone();
            state
                .db
                .run(move |c| {
                    enrol::enrol(c, &shop.id, &found, crate::db::now())?;
                    customers::adjust(c, &shop, &customer_id, &adjustment).map_err(AppError::from)
                })
                .await?
        }
        other => other?,
    };
    let status = if created {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(customer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    segment: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// One listed customer: the fields of `GET /customers/{id}` and the customer's segment.
#[derive(Debug, serde::Serialize)]
struct Listed {
    #[serde(flatten)]
    view: CustomerView,
    segment: Option<String>,
}

/// `GET /customers?q=&segment=&limit=&cursor=`: customers matching a search (e-mail, name or
/// platform id) and/or in a segment, or all of them, a page at a time (`next_cursor` is `null`
/// on the last page).
pub async fn list(
    session: ShopSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::retention::Segment;
    let q = query.into_inner();
    let segment = match q.segment.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Segment::parse(name).ok_or_else(|| {
            AppError::bad_request(format!(
                "unknown segment {name:?}: use new, active, at_risk, lapsed or lost"
            ))
        })?),
    };
    let filter = search::Filter::new(q.q.as_deref(), segment)
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=250).contains(&limit) {
        return Err(AppError::bad_request("limit must be 1–250"));
    }
    let (customers, next_cursor) = state
        .db
        .run(move |c| {
            let page = search::page(c, &session.shop.id, &filter, q.cursor.as_deref(), limit)?;
            let next = (page.len() as i64 == limit)
                .then(|| page.last().map(|(m, _)| m.id.clone()))
                .flatten();
            let views = page
                .into_iter()
                .map(|(m, segment)| {
                    CustomerView::of(c, &session.shop, m).map(|view| Listed { view, segment })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, AppError>((views, next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "customers": customers,
        "next_cursor": next_cursor,
    })))
}
