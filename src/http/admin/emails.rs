//! The e-mail log: `GET /api/admin/v1/emails?customer_id=&kind=&status=&limit=` (newest first).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::mail;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    customer_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    session: ShopSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    mail::check_filters(q.kind.as_deref(), q.status.as_deref()).map_err(AppError::bad_request)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let shop_id = session.shop.id;
    let views = state
        .db
        .run(move |c| {
            mail::list(
                c,
                &shop_id,
                q.customer_id.as_deref(),
                q.kind.as_deref(),
                q.status.as_deref(),
                limit,
            )
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "emails": views })))
}
