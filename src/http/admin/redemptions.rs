//! `POST /api/admin/v1/redemptions/{id}/cancel`: the owner takes a reward back. The code stops
//! working at once; the points come back once the platform's usage count has settled and shows
//! the code unused (`services::redeem::cancel` says why it waits).

use actix_web::{web, HttpResponse};

use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::redeem::{self, CancelError};
use crate::state::AppState;

impl From<CancelError> for AppError {
    fn from(e: CancelError) -> Self {
        let code = match &e {
            CancelError::NotFound => ErrorCode::NotFound,
            CancelError::Settled(_) | CancelError::Used | CancelError::InFlight => {
                ErrorCode::Conflict
            }
            CancelError::NotConnected | CancelError::Unsupported(_) => ErrorCode::Unavailable,
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
    let started = redeem::cancel(
        &state.db,
        &crate::platform::StoreApi::for_shop(&session.shop, &state.shopify),
        &state.keys,
        &session.shop,
        &path.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "status": "cancelling",
        "points_return_at": started
            .points_return_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })))
}
