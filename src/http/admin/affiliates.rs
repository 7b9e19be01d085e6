//! Affiliates: `POST /api/admin/v1/affiliates` `{"name","email","code","commission_pct",
//! "customer_discount"}` creates the affiliate and their public code on the platform (`201`);
//! `GET /api/admin/v1/affiliates` lists them; `GET /api/admin/v1/affiliates/{id}/report?from&to`
//! answers `{"orders","revenue_minor","commission_minor","refunded_minor"}` for the orders
//! placed on those days (the shop's calendar; default the last 30 days).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::models::Affiliate;
use crate::domain::calendar;
use crate::error::AppError;
use crate::http::admin::reports::period;
use crate::http::extract::ShopSession;
use crate::services::referrals::{self, NewAffiliate};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct AffiliateView {
    id: String,
    name: String,
    email: String,
    code: String,
    commission_pct: f64,
    customer_discount: serde_json::Value,
    status: String,
    created_at: String,
}

impl From<Affiliate> for AffiliateView {
    fn from(a: Affiliate) -> Self {
        Self {
            id: a.id,
            name: a.name,
            email: a.email,
            code: a.code,
            commission_pct: f64::from(a.commission_bp) / 100.0,
            customer_discount: serde_json::from_str(&a.customer_discount)
                .unwrap_or(serde_json::Value::Null),
            status: if a.status == crate::db::types::ClaimStatus::Issued {
                "active".into()
            } else {
                "pending".into()
            },
            created_at: a
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

pub async fn create(
    session: ShopSession,
    body: web::Json<NewAffiliate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop = session.shop;
    let affiliate = referrals::create_affiliate(
        &state.db,
        &crate::platform::StoreApi::for_shop(&shop, &state.shopify),
        &state.keys,
        &shop,
        &body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(AffiliateView::from(affiliate)))
}

pub async fn list(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let rows = state
        .db
        .run(move |c| Affiliate::list(c, &shop_id).map_err(AppError::from))
        .await?;
    let views: Vec<AffiliateView> = rows.into_iter().map(AffiliateView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "affiliates": views })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

pub async fn report(
    session: ShopSession,
    path: web::Path<String>,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop = session.shop;
    let today = calendar::local_date(calendar::zone(&shop.timezone), crate::db::now());
    let (start, end) = period(range.from.as_deref(), range.to.as_deref(), today)
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let (from, to) = (start.date(), end.date().pred_opt().unwrap_or(end.date()));
    let id = path.into_inner();
    let report = state
        .db
        .run(move |c| referrals::report(c, &shop.id, &id, from, to).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
