//! `DELETE /api/admin/v1/customers/{platform_customer_id}`: the owner erases a customer who
//! asked to be forgotten. Shopify sends such requests as `customers/redact`; BigCommerce and
//! WooCommerce send none, so their owners receive them directly and act here. The erasure is
//! the same: personal data gone from members, orders and mail at once, the stored webhook
//! bodies about the customer by a job right after, the anonymous ledger kept. `202`:
//! `{"erased_members": N}`; `404` when the shop has no such customer.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::{now, write_transaction};
use crate::domain::event::{CustomerRef, PlatformId};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::{compliance, customers};
use crate::state::AppState;

pub async fn erase(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let customer_id = path.into_inner();
    let shop = session.shop;
    let erased = state
        .db
        .run(move |c| {
            let member = customers::find(c, &shop.id, &customer_id)?;
            let customer = CustomerRef {
                id: member
                    .platform_customer_id
                    .as_deref()
                    .and_then(|id| PlatformId::parse(id).ok()),
                email: member.email.clone(),
            };
            write_transaction(c, |c| {
                compliance::redact_customer(c, &shop, &customer, &[], now())
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(json!({ "erased_members": erased })))
}
