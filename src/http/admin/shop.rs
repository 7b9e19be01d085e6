//! `GET /api/admin/v1/shop`: the authenticated shop as its owner sees it, with the widget secret
//! the owner's theme snippet or storefront plugin computes customer digests with.

use actix_web::{web, HttpResponse};

use crate::http::extract::ShopSession;
use crate::services::shops::ShopView;
use crate::state::AppState;

pub async fn show(session: ShopSession, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        // The widget secret is a credential: no cache may keep it.
        .insert_header(("Cache-Control", "no-store"))
        .json(ShopView::of(&session.shop, &state.keys))
}
