//! Installing on Shopify: `GET /auth?shop=` (to the consent screen, with a signed `state`
//! cookie), `GET /auth/callback` (Shopify's redirect back) and `POST /auth/token-exchange`
//! (managed installation: the admin UI sends its session token as `Bearer`).

pub mod bigcommerce;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::crypto::random_token;
use crate::error::{AppError, ErrorCode};
use crate::platform::shopify::api::ApiError;
use crate::services::install::{state_cookie, InstallError, Installer, STATE_TTL_SECS};
use crate::services::shops::AddShopError;
use crate::state::AppState;

/// The cookie holding the signed `state` between `/auth` and `/auth/callback`.
const STATE_COOKIE: &str = "boomerang_oauth_state";

impl From<InstallError> for AppError {
    fn from(e: InstallError) -> Self {
        let message = e.to_string();
        match e {
            InstallError::BadDomain(_) => AppError::bad_request(message),
            InstallError::BadHmac => AppError::new(ErrorCode::InvalidSignature, message),
            InstallError::Stale | InstallError::SessionToken(_) => AppError::unauthorized(message),
            InstallError::BadState | InstallError::MissingScopes(_) => {
                AppError::new(ErrorCode::Forbidden, message)
            }
            InstallError::Platform(ApiError::Rejected(_) | ApiError::Unauthorized(_)) => {
                AppError::new(ErrorCode::PlatformError, message)
            }
            InstallError::Platform(_) => AppError::new(ErrorCode::Unavailable, message),
            InstallError::AddShop(AddShopError::Invalid(_)) => AppError::bad_request(message),
            InstallError::AddShop(other) => AppError::internal(other),
            InstallError::Database(db) => db.into(),
        }
    }
}

pub(crate) fn installer(state: &AppState) -> Installer {
    Installer {
        db: state.db.clone(),
        keys: state.keys.clone(),
        api: state.shopify.clone(),
        oauth: state.shopify_oauth.clone(),
        config: state.config.clone(),
    }
}

#[derive(Debug, Deserialize)]
pub struct Begin {
    pub shop: Option<String>,
}

/// `GET /auth?shop=x.myshopify.com`: 302 to Shopify's consent screen.
pub async fn begin(
    state: web::Data<AppState>,
    query: web::Query<Begin>,
) -> Result<HttpResponse, AppError> {
    let shop = query
        .shop
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let nonce = random_token(16);
    let consent = installer(&state).consent_url(&shop, &nonce)?;
    let cookie = state_cookie(&state.keys, &nonce, &shop, chrono::Utc::now().timestamp());
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, consent))
        .insert_header((
            header::SET_COOKIE,
            // Lax: sent on Shopify's top-level redirect back to the callback, not on
            // cross-site subrequests.
            format!(
                "{STATE_COOKIE}={cookie}; Max-Age={STATE_TTL_SECS}; Path=/auth; HttpOnly; SameSite=Lax{secure}"
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

fn cookie_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /auth/callback?code&hmac&host&shop&state&timestamp`: checks, exchanges the code, and
/// sends the owner into the app in their shop's admin.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let installed = installer(&state)
        .complete_authorization(&query, cookie_value(&req, STATE_COOKIE))
        .await?;
    // Into the app inside the shop's admin: Shopify opens `/app` there with a session token,
    // which signs the owner in (a top-level `/app` has no session to show).
    let target = format!(
        "https://{}/admin/apps/{}",
        installed.shop.domain, state.config.shopify.api_key
    );
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .insert_header((
            header::SET_COOKIE,
            format!("{STATE_COOKIE}=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Lax"),
        ))
        .finish())
}

/// `POST /auth/token-exchange` with `Authorization: Bearer <session token>` →
/// `{"shop": "…", "installed": true, "exchanged": bool}`.
pub async fn token_exchange(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("missing Authorization: Bearer <session token>"))?;
    let installed = installer(&state).ensure_installed(token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "shop": installed.shop.domain,
            "installed": true,
            "exchanged": installed.exchanged,
        })))
}
