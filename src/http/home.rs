//! `GET /`: what Boomerang is and where a newcomer goes next.

use actix_web::{web, HttpResponse};

use crate::config::DEMO_SHOPIFY_API_SECRET;
use crate::error::AppError;
use crate::services::demo;
use crate::state::AppState;

pub async fn index(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let config = &state.config;
    let ctx = minijinja::context! {
        demo_domain => demo::DEMO_SHOP_DOMAIN,
        outbox_dir => config.data_dir.join("outbox").display().to_string(),
        demo_credentials => config.shopify.using_demo_credentials,
        demo_secret => DEMO_SHOPIFY_API_SECRET,
        curl_command => demo::signed_webhook_command(&config.public_url),
        backend => format!("{:?}", state.db.backend()),
    };
    state.pages.render("home.html", ctx)
}
