//! `POST /api/admin/v1/redemptions/{id}/cancel`: the owner takes a reward back; the code is
//! removed from the shop and the points returned, unless the code was already used.

use actix_web::{web, HttpResponse};

use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::redeem::{self, CancelError};
use crate::state::AppState;

impl From<CancelError> for AppError {
    fn from(e: CancelError) -> Self {
        let code = match &e {
            CancelError::NotFound => ErrorCode::NotFound,
            CancelError::Settled(_) | CancelError::Used => ErrorCode::Conflict,
            CancelError::Platform(_) => ErrorCode::PlatformError,
            CancelError::Unavailable(_) => return AppError::internal(e),
        };
        AppError::new(code, e.to_string())
    }
}

pub async fn cancel(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    redeem::cancel(
        &state.db,
        &crate::platform::StoreApi::for_shop(&session.shop, &state.shopify),
        &state.keys,
        &session.shop,
        &path.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "cancelled" })))
}
