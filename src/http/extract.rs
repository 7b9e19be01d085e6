//! Authentication as extractors: a handler that takes a `ShopSession` can only run for a
//! request that proved which shop it is for.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use crate::crypto::sha256_hex;
use crate::db::models::Shop;
use crate::db::types::{InstallState, Platform};
use crate::db::DbError;
use crate::error::AppError;
use crate::http::middleware::record_shop;
use crate::platform::shopify::session_token;
use crate::state::AppState;

/// The shop an admin API request is authenticated for: from a Shopify session token, or from
/// the API key `boomerang shop add` printed for a non-Shopify shop.
#[derive(Debug, Clone)]
pub struct ShopSession {
    pub shop: Shop,
    /// Who is acting, as recorded on what they change: the session token's `sub` (the staff
    /// member's Shopify user id), or [`API_KEY_ACTOR`].
    pub actor: String,
}

/// The actor of a request made with a shop's API key (it names no person).
pub const API_KEY_ACTOR: &str = "api key";

impl FromRequest for ShopSession {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?;
            let token = bearer
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::unauthorized("missing Authorization: Bearer token"))?;
            let (shop, actor) = if token.starts_with("bmr_") {
                let hash = sha256_hex(&token);
                let shop = state
                    .db
                    .run(move |c| Shop::find_by_api_key_hash(c, &hash).map_err(DbError::from))
                    .await?;
                (shop, API_KEY_ACTOR.to_owned())
            } else {
                let shopify = &state.config.shopify;
                let user = session_token::verify_user(
                    &token,
                    &shopify.api_key,
                    &shopify.api_secret,
                    shopify.previous_api_secret.as_ref(),
                )
                .map_err(|e| AppError::unauthorized(e.to_string()))?;
                let domain = user.shop;
                let shop = state
                    .db
                    .run(move |c| {
                        Shop::find_by_domain(c, Platform::Shopify, &domain).map_err(DbError::from)
                    })
                    .await?;
                // Shopify's tokens always carry `sub`; one without it still acted as the session.
                (shop, user.user_id.unwrap_or_else(|| "session token".into()))
            };
            let shop = shop
                .filter(|s| s.install_state == InstallState::Installed)
                .ok_or_else(|| AppError::unauthorized("no installed shop for this token"))?;
            record_shop(&shop.domain);
            Ok(ShopSession { shop, actor })
        })
    }
}
