//! The owner's cookie session for the admin UI, and the CSRF check every form goes through.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends
//! it), scoped to `/app`, and `Secure` whenever the app is served over HTTPS. Forms carry the
//! session's CSRF token as a hidden field; a POST without the right one, or one a browser marks
//! as coming from another site (`Sec-Fetch-Site: cross-site`), is refused and changes nothing.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_SECURITY_POLICY};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::crypto::sha256_hex;
use crate::db::types::Platform;
use crate::db::DbError;
use crate::error::{AppError, ErrorCode};
use crate::http::app::texts::texts;
use crate::services::admin_sessions::{self, AdminSession, SESSION_TTL_HOURS};
use crate::state::AppState;

pub const COOKIE: &str = "bmr_admin";

/// A request from a signed-in owner.
#[derive(Debug, Clone)]
pub struct Owner(pub AdminSession);

/// No (live) session: the page says how to sign in instead of showing anything of a shop.
#[derive(Debug)]
pub struct NotSignedIn;

impl std::fmt::Display for NotSignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not signed in")
    }
}

const NOT_SIGNED_IN_PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · Boomerang</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:560px;margin:10vh auto;padding:0 20px;color:#1d1d1f}code{background:#f0f0f4;padding:2px 5px;border-radius:4px}</style></head><body><main><h1>Sign in to Boomerang</h1><p>Your session has ended or you are not signed in. Open the app from your shop's admin, or ask for a one-time sign-in link on the server:</p><p><code>boomerang shop login-link --domain your-shop.example</code></p></main></body></html>"#;

impl ResponseError for NotSignedIn {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(NOT_SIGNED_IN_PAGE)
    }
}

impl FromRequest for Owner {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let cookie = req.cookie(COOKIE).map(|c| c.value().to_owned());
        let req = req.clone();
        Box::pin(async move {
            let (Some(state), Some(cookie)) = (state, cookie) else {
                req.extensions_mut().insert(FramePolicy::SignInPrompt);
                return Err(NotSignedIn.into());
            };
            let session = state
                .db
                .run(move |c| {
                    admin_sessions::find(c, &cookie, crate::db::now()).map_err(DbError::from)
                })
                .await
                .map_err(AppError::from)?;
            match session {
                Some(s) => {
                    crate::http::middleware::record_shop(&s.shop.domain);
                    req.extensions_mut().insert(FramePolicy::of(&s));
                    Ok(Owner(s))
                }
                None => {
                    req.extensions_mut().insert(FramePolicy::SignInPrompt);
                    Err(NotSignedIn.into())
                }
            }
        })
    }
}

/// Who may show an admin page in a frame (`Content-Security-Policy: frame-ancestors`). A page
/// of a session opened inside Shopify's admin (or a BigCommerce control panel) may be framed by
/// that shop's admin only; every other admin page by no one, so no other site can overlay it
/// and trick a click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramePolicy {
    /// Not framed (login-link sessions, the sign-in page; the default).
    Nowhere,
    /// A session opened inside this shop's Shopify admin.
    ShopifyAdmin { shop_domain: String },
    /// A session opened from a BigCommerce store's control panel (`store-{hash}`), which
    /// shows the app in a frame at `https://store-{hash}.mybigcommerce.com`.
    BigCommerceControlPanel { shop_domain: String },
    /// The "not signed in" page, which shows nothing of any shop and has no form: Shopify's
    /// admin and BigCommerce's control panels may frame it, so an expired session inside the
    /// admin says what to do.
    SignInPrompt,
}

impl FramePolicy {
    pub fn of(session: &AdminSession) -> Self {
        let shop_domain = session.shop.domain.clone();
        if !session.embedded {
            Self::Nowhere
        } else if session.shop.platform == Platform::BigCommerce {
            Self::BigCommerceControlPanel { shop_domain }
        } else {
            Self::ShopifyAdmin { shop_domain }
        }
    }

    fn header(&self) -> String {
        match self {
            Self::Nowhere => "frame-ancestors 'none'".to_owned(),
            Self::ShopifyAdmin { shop_domain } => {
                format!("frame-ancestors https://{shop_domain} https://admin.shopify.com")
            }
            Self::BigCommerceControlPanel { shop_domain } => {
                format!("frame-ancestors https://{shop_domain}.mybigcommerce.com")
            }
            Self::SignInPrompt => {
                "frame-ancestors https://admin.shopify.com https://*.myshopify.com https://*.mybigcommerce.com".to_owned()
            }
        }
    }
}

/// Middleware on `/app`: sets each page's framing policy from what its handler or the
/// [`Owner`] extractor recorded (none recorded: not framed).
pub async fn frame_ancestors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let policy = res
        .request()
        .extensions()
        .get::<FramePolicy>()
        .cloned()
        .unwrap_or(FramePolicy::Nowhere);
    // A shop domain is validated at install (letters, digits, dots, hyphens): always a valid
    // header value; should one ever not be, the page is served unframeable.
    let value = HeaderValue::from_str(&policy.header())
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
    res.headers_mut().insert(CONTENT_SECURITY_POLICY, value);
    Ok(res)
}

/// The session cookie for a new session.
pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/app")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::hours(SESSION_TTL_HOURS))
        .finish()
}

/// The session cookie when the admin runs inside Shopify's admin (an iframe on another site):
/// `SameSite=None` so the framed pages send it, `Secure` as that requires, and `Partitioned`
/// (CHIPS) so it lives only in that frame's partition and browsers that block third-party
/// cookies keep it. Forms stay protected by their CSRF token.
pub fn embedded_session_cookie(value: &str) -> String {
    format!(
        "{COOKIE}={value}; Path=/app; Max-Age={}; HttpOnly; Secure; SameSite=None; Partitioned",
        SESSION_TTL_HOURS * 3600
    )
}

/// A cookie that makes the browser forget the session.
pub fn cleared_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}

/// Refuses a form post that is not from this session's own pages.
pub fn check_csrf(req: &HttpRequest, session: &AdminSession, sent: &str) -> Result<(), AppError> {
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    // Comparing digests: the time taken says nothing about how much of the token matched.
    if cross_site || sha256_hex(sent) != sha256_hex(&session.csrf_token) {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "this form was not sent from your Boomerang admin (or the page was open too long): reload the page and try again",
        ));
    }
    Ok(())
}

/// What every admin page's layout needs.
#[derive(Debug, Serialize)]
pub struct Layout {
    pub shop: String,
    pub lang: &'static str,
    pub dir: &'static str,
    pub csrf: String,
    pub t: std::collections::BTreeMap<&'static str, &'static str>,
    /// The navigation entry of this page.
    pub section: &'static str,
    /// Inside Shopify's admin: the page loads App Bridge (which Shopify serves; it puts the
    /// navigation in the admin's own menu and keeps the session token fresh).
    pub embedded: bool,
}

impl Layout {
    pub fn of(session: &AdminSession, section: &'static str) -> Self {
        let lang = crate::http::app::texts::language(&session.shop.locale);
        let arabic = lang == "ar";
        Self {
            shop: session.shop.domain.clone(),
            lang,
            dir: if arabic { "rtl" } else { "ltr" },
            csrf: session.csrf_token.clone(),
            t: texts(lang),
            section,
            // App Bridge is Shopify's; a BigCommerce control panel frames the plain pages.
            embedded: session.embedded && session.shop.platform == Platform::Shopify,
        }
    }
}

/// Whether cookies must be `Secure`: the app is served over HTTPS.
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}
