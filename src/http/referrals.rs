//! Referral links and the friend's claim.
//!
//! - `GET /r/{code}`: records the click and sends the visitor to the shop's storefront with
//!   `?ref={code}`, where the widget keeps the code in the cart and offers the claim form. An
//!   unknown code gets a page saying so (`404`), never an error dump.
//! - `POST {base}/referrals/claim` `{"code","email"}` → `{"discount_code","expires_at"}`.
//!   Rate-limited per referral code and per client network before anything is read or stored,
//!   so a flood of claims gets `429` and leaves nothing behind.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::{web, HttpRequest, HttpResponse};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use crate::db::{now, write_transaction};
use crate::domain::referrals::{ip_identity, parse_code};
use crate::error::{AppError, ErrorCode};
use crate::http::storefront::ShopperClaim;
use crate::services::referrals::{self, ReferralError};
use crate::state::AppState;

/// Claims one referral code may take: a burst of this many, refilled at this many per hour. A
/// code shared widely gets many honest claims; one script claiming codes for itself gets stopped.
const CLAIMS_PER_CODE_PER_HOUR: u32 = 30;
/// Claims one client network may make: a household claims for a few friends, not dozens.
const CLAIMS_PER_NETWORK_PER_HOUR: u32 = 10;
/// Keys kept before the limiter forgets those whose buckets are full again.
const FORGET_ABOVE: usize = 50_000;

/// Per-process claim limits. Each app instance counts on its own, so N instances allow up to N
/// times the rate; the per-code unique friend claim still holds across all of them.
#[derive(Debug)]
pub struct ClaimLimits {
    per_code: DefaultKeyedRateLimiter<String>,
    per_network: DefaultKeyedRateLimiter<String>,
}

impl Default for ClaimLimits {
    fn default() -> Self {
        let hourly = |n: u32| Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_code: RateLimiter::keyed(hourly(CLAIMS_PER_CODE_PER_HOUR)),
            per_network: RateLimiter::keyed(hourly(CLAIMS_PER_NETWORK_PER_HOUR)),
        }
    }
}

impl ClaimLimits {
    /// Takes one claim from both buckets, or says which is empty.
    fn check(&self, shop_domain: &str, code: &str, network: &str) -> Result<(), AppError> {
        for limiter in [&self.per_code, &self.per_network] {
            if limiter.len() > FORGET_ABOVE {
                limiter.retain_recent();
            }
        }
        let too_many = |what: &str| {
            AppError::new(
                ErrorCode::TooManyRequests,
                format!("too many claims {what}; try again later"),
            )
        };
        // The network first: a network over its limit spends none of the code's allowance, so
        // one flooding client cannot use up a popular code for everyone else.
        if self.per_network.check_key(&network.to_owned()).is_err() {
            return Err(too_many("from your network"));
        }
        if self
            .per_code
            .check_key(&format!("{shop_domain}|{code}"))
            .is_err()
        {
            return Err(too_many("for this referral code"));
        }
        Ok(())
    }
}

/// The client's network as the limiter and the click log key it (`/64` for IPv6).
fn client_network(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let ip = info.realip_remote_addr().unwrap_or("");
    // `realip_remote_addr` may carry a port when it falls back to the peer address.
    let ip = ip
        .parse::<std::net::SocketAddr>()
        .map_or(ip.to_owned(), |s| s.ip().to_string());
    ip.parse::<IpAddr>()
        .ok()
        .and_then(|ip| ip_identity(&ip.to_string()))
        .unwrap_or_else(|| "unknown".into())
}

impl From<ReferralError> for AppError {
    fn from(e: ReferralError) -> Self {
        let code = match &e {
            ReferralError::NotEnabled
            | ReferralError::UnknownCode(_)
            | ReferralError::NotFound(_) => ErrorCode::NotFound,
            ReferralError::InvalidEmail(_)
            | ReferralError::Invalid(_)
            | ReferralError::Config(_) => ErrorCode::ValidationFailed,
            ReferralError::SelfReferral => ErrorCode::SelfReferral,
            ReferralError::ExistingCustomer(_) => ErrorCode::ExistingCustomer,
            ReferralError::Decided(_) | ReferralError::CodeTaken(_) => ErrorCode::Conflict,
            ReferralError::Platform(_) => ErrorCode::PlatformError,
            ReferralError::NotConnected | ReferralError::Unconfirmed => ErrorCode::Unavailable,
            ReferralError::Ledger(crate::services::ledger::LedgerError::Database(_))
            | ReferralError::Database(_)
            | ReferralError::Unavailable(_) => return AppError::internal(e),
            ReferralError::Ledger(_) => ErrorCode::ValidationFailed,
        };
        AppError::new(code, e.to_string())
    }
}

/// `GET /r/{code}`.
pub async fn link(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let raw = path.into_inner();
    let Some(code) = parse_code(&raw) else {
        return unknown_link(&state);
    };
    let visitor = state
        .keys
        .sign_link(&format!("referral-visitor|{}", client_network(&req)));
    let lookup = code.clone();
    let found = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                let Some((shop, member)) = referrals::member_by_code(c, &lookup)? else {
                    return Ok(None);
                };
                let enabled = crate::services::program::Program::of(&shop)
                    .active_referrals()
                    .is_some();
                if !enabled {
                    return Ok(None);
                }
                referrals::record_click(c, &member, Some(visitor), now())?;
                Ok::<_, diesel::result::Error>(Some(shop))
            })
            .map_err(AppError::from)
        })
        .await?;
    let Some(shop) = found else {
        return unknown_link(&state);
    };
    crate::http::middleware::record_shop(&shop.domain);
    let target = if shop.is_demo {
        format!("/demo?as=guest&ref={code}")
    } else {
        format!("https://{}/?ref={code}", shop.domain)
    };
    Ok(HttpResponse::Found()
        .insert_header(("Location", target))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .finish())
}

fn unknown_link(state: &AppState) -> Result<HttpResponse, AppError> {
    let mut page = state
        .pages
        .render("referral_unknown.html", minijinja::context! {})?;
    *page.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    Ok(page)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    code: String,
    email: String,
}

/// `POST {base}/referrals/claim`.
pub async fn claim(
    req: HttpRequest,
    shopper: ShopperClaim,
    body: web::Json<ClaimBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let code = parse_code(&body.code).unwrap_or_else(|| body.code.trim().to_uppercase());
    state
        .claim_limits
        .check(shopper.domain(), &code, &client_network(&req))?;
    let keys = state.keys.clone();
    let shopper = state.db.run(move |c| shopper.resolve(c, &keys)).await?;
    let claimed = referrals::claim(
        &state.db,
        &crate::platform::StoreApi::for_shop(&shopper.shop, &state.shopify),
        &state.keys,
        &shopper.shop,
        &body.code,
        &body.email,
        shopper.customer_id.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(serde_json::json!({
            "discount_code": claimed.code,
            "expires_at": claimed.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })))
}
