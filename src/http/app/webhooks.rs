//! `/app/webhooks`: the shop's outgoing webhook subscriptions and their recent deliveries, each
//! with its attempts, and a button to send one again (optionally turning a disabled subscription
//! back on), through the same redelivery as the admin API. Subscriptions themselves are made
//! through the API, which shows the signing secret once.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::services::outgoing::{self, DeliveryView, SubscriptionView};
use crate::state::AppState;

/// Deliveries shown per subscription.
const SHOWN: usize = 20;

#[derive(Debug, Serialize)]
struct SubscriptionSection {
    subscription: SubscriptionView,
    deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    redelivered: Option<String>,
}

pub async fn list(
    owner: Owner,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let shop_id = session.shop.id.clone();
    let sections = state
        .db
        .run(move |c| {
            let mut sections = Vec::new();
            for subscription in outgoing::list(c, &shop_id)? {
                let mut deliveries = outgoing::list_deliveries(c, &shop_id, &subscription.id)?;
                deliveries.truncate(SHOWN);
                sections.push(SubscriptionSection {
                    subscription,
                    deliveries,
                });
            }
            Ok::<_, AppError>(sections)
        })
        .await?;
    state.pages.render(
        "app_webhooks.html",
        minijinja::context! {
            layout => Layout::of(&session, "webhooks"),
            sections => sections,
            redelivered => query.redelivered.is_some(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct RedeliverForm {
    csrf: String,
    /// Present (`1`) to turn a disabled subscription back on.
    enable: Option<String>,
}

/// `POST /app/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver`.
pub async fn redeliver(
    req: HttpRequest,
    owner: Owner,
    path: web::Path<(String, String)>,
    form: web::Form<RedeliverForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_csrf(&req, &owner.0, &form.csrf)?;
    let (subscription_id, delivery_id) = path.into_inner();
    outgoing::redeliver(
        &state.db,
        &state.keys,
        &owner.0.shop.id,
        Some(subscription_id.as_str()),
        &delivery_id,
        form.enable.is_some_and(|v| !v.is_empty()),
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/app/webhooks?redelivered=1"))
        .finish())
}
