//! The BigCommerce app's callbacks: `GET /auth/bigcommerce/install` (the Auth Callback URL),
//! `/load`, `/uninstall` and `/remove_user` (each with a `signed_payload_jwt`). Install and
//! load end in the admin at `/app`, inside the control panel's frame.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::error::{AppError, ErrorCode};
use crate::http::app::session::embedded_session_cookie;
use crate::platform::bigcommerce::oauth::AuthCallback;
use crate::services::install::bigcommerce::{BcInstallError, BcInstaller, SignedIn};
use crate::services::shops::AddShopError;
use crate::state::AppState;

impl From<BcInstallError> for AppError {
    fn from(e: BcInstallError) -> Self {
        let message = e.to_string();
        match e {
            BcInstallError::NotConfigured => AppError::new(ErrorCode::Unavailable, message),
            BcInstallError::BadRequest(_) => AppError::bad_request(message),
            BcInstallError::SignedPayload(_)
            | BcInstallError::NotInstalled(_)
            | BcInstallError::Replayed => AppError::unauthorized(message),
            BcInstallError::Refused(ref api) | BcInstallError::Hooks(ref api, _)
                if api.is_transient() =>
            {
                AppError::new(ErrorCode::Unavailable, message)
            }
            BcInstallError::Refused(_) | BcInstallError::Hooks(..) => {
                AppError::new(ErrorCode::PlatformError, message)
            }
            BcInstallError::AddShop(AddShopError::Invalid(_)) => AppError::bad_request(message),
            BcInstallError::AddShop(other) => AppError::internal(other),
            BcInstallError::Database(db) => db.into(),
        }
    }
}

pub(crate) fn installer(state: &AppState) -> BcInstaller {
    let (http, policy) = state.shopify.http();
    BcInstaller {
        db: state.db.clone(),
        keys: state.keys.clone(),
        config: state.config.clone(),
        http: http.clone(),
        policy,
    }
}

/// Into the admin, signed in: the cookie is the framed kind (`SameSite=None; Partitioned`),
/// since BigCommerce shows the app in a frame of its control panel.
fn into_admin(signed_in: &SignedIn) -> Result<HttpResponse, AppError> {
    let cookie = header::HeaderValue::from_str(&embedded_session_cookie(&signed_in.cookie))
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, "/app"))
        .insert_header((header::SET_COOKIE, cookie))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // The URL carried a code or a signed payload: not for other sites' eyes.
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish())
}

#[derive(Debug, Deserialize)]
pub struct InstallQuery {
    code: Option<String>,
    scope: Option<String>,
    context: Option<String>,
}

/// `GET /auth/bigcommerce/install?code&scope&context=stores/{hash}`.
pub async fn install(
    state: web::Data<AppState>,
    query: web::Query<InstallQuery>,
) -> Result<HttpResponse, AppError> {
    let InstallQuery {
        code,
        scope,
        context,
    } = query.into_inner();
    let (Some(code), Some(context)) = (
        code.filter(|c| !c.trim().is_empty()),
        context.filter(|c| !c.trim().is_empty()),
    ) else {
        return Err(AppError::bad_request(
            "the install request needs code and context (and scope): install the app from the BigCommerce control panel",
        ));
    };
    let callback = AuthCallback {
        code,
        scope: scope.unwrap_or_default(),
        context,
    };
    let signed_in = installer(&state).install(callback).await?;
    into_admin(&signed_in)
}

#[derive(Debug, Deserialize)]
pub struct SignedQuery {
    signed_payload_jwt: Option<String>,
}

impl SignedQuery {
    fn token(&self) -> &str {
        self.signed_payload_jwt.as_deref().unwrap_or_default()
    }
}

/// `GET /auth/bigcommerce/load?signed_payload_jwt=…`: the owner opens the app.
pub async fn load(
    state: web::Data<AppState>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, AppError> {
    let signed_in = installer(&state).load(query.token()).await?;
    into_admin(&signed_in)
}

/// `GET /auth/bigcommerce/uninstall?signed_payload_jwt=…` → `{"status": "uninstalled"}`, or
/// `"not_installed"` when there was nothing to do (a repeat, or a store never installed).
pub async fn uninstall(
    state: web::Data<AppState>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, AppError> {
    let uninstalled = installer(&state).uninstall(query.token()).await?;
    let status = if uninstalled.is_some() {
        "uninstalled"
    } else {
        "not_installed"
    };
    Ok(HttpResponse::Ok().json(json!({ "status": status })))
}

/// `GET /auth/bigcommerce/remove_user?signed_payload_jwt=…` → `{"status": "ok"}`: a user lost
/// access to the app; the app keeps no per-user data, so nothing changes.
pub async fn remove_user(
    state: web::Data<AppState>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, AppError> {
    let payload = installer(&state).remove_user(query.token()).await?;
    tracing::info!(store = %payload.store_hash, user = ?payload.user.id, "BigCommerce user removed from the app");
    Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ApiError;

    #[test]
    fn refusals_map_to_clear_statuses() {
        let status = |e: BcInstallError| AppError::from(e).code;
        assert_eq!(
            status(BcInstallError::NotConfigured),
            ErrorCode::Unavailable
        );
        assert_eq!(
            status(BcInstallError::Refused(ApiError::Rejected("no".into()))),
            ErrorCode::PlatformError
        );
        assert_eq!(
            status(BcInstallError::Refused(ApiError::Timeout(1))),
            ErrorCode::Unavailable
        );
        assert_eq!(
            status(BcInstallError::NotInstalled("store-x".into())),
            ErrorCode::Unauthorized
        );
        assert_eq!(status(BcInstallError::Replayed), ErrorCode::Unauthorized);
    }
}
