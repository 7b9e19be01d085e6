//! The storefront API, served twice with the same JSON: under `/proxy` for Shopify (through the
//! app proxy, signed by Shopify) and under `/widget/v1` for other platforms (the customer proven
//! by a per-shop digest, or on BigCommerce by the store's current-customer token). The
//! `Shopper` extractor makes that difference disappear for handlers.

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::config::BigCommerceConfig;
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::types::{InstallState, Platform};
use crate::db::{read_snapshot, DbConnection};
use crate::error::{AppError, ErrorCode};
use crate::http::middleware::record_shop;
use crate::platform::bigcommerce::{self, current_customer};
use crate::platform::shopify::app_proxy;
use crate::services::redeem::{self, RedeemError, Redeemed};
use crate::state::AppState;

/// Who a storefront request says it is for, with every check that needs no database done:
/// the app-proxy signature (Shopify) or the presence of the shop parameter (`/widget/v1`).
/// [`ShopperClaim::resolve`] finishes the job on the handler's database hop, so a widget read
/// costs one trip to the blocking pool, not two.
#[derive(Debug)]
pub struct ShopperClaim {
    /// `Some` when the platform vouched for the domain (the app proxy); `None`: any platform.
    platform: Option<Platform>,
    domain: String,
    customer: Customer,
}

/// The shop and (if logged in) the customer a storefront request is for, proven.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub shop: Shop,
    pub customer_id: Option<String>,
}

impl FromRequest for ShopperClaim {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Self::from_query(req))
    }
}

impl ShopperClaim {
    /// The shop domain the request names (checked by `resolve`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    fn from_query(req: &HttpRequest) -> Result<Self, AppError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?;
        let query = req.query_string();
        if req.path().starts_with("/proxy") {
            let shopify = &state.config.shopify;
            let params = app_proxy::verify(
                query,
                &shopify.api_secret,
                shopify.previous_api_secret.as_ref(),
                chrono::Utc::now().timestamp(),
            )
            .map_err(|e| AppError::unauthorized(e.to_string()))?;
            return Ok(Self {
                platform: Some(Platform::Shopify),
                domain: params.shop,
                customer: Customer::from(params.customer_id),
            });
        }
        let get = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .filter(|v| !v.is_empty())
        };
        let domain = get("shop").ok_or_else(|| AppError::bad_request("missing shop"))?;
        if let Some(token) = get("bc_token") {
            return Self::bigcommerce(&state.config.bigcommerce, &domain, &token, get("customer"));
        }
        let customer = match get("customer") {
            Some(id) => Customer::Claimed {
                id,
                digest: get("digest"),
            },
            None => Customer::Guest,
        };
        Ok(Self {
            platform: None,
            domain,
            customer,
        })
    }

    /// A BigCommerce shopper proven by the store's current-customer token (a Stencil theme
    /// cannot compute the digest): the token must be the app's, fresh, and for this store, so
    /// only a BigCommerce shop with this hash is looked up.
    fn bigcommerce(
        config: &BigCommerceConfig,
        domain: &str,
        token: &str,
        customer: Option<String>,
    ) -> Result<Self, AppError> {
        let domain = domain.trim().to_ascii_lowercase();
        let hash = bigcommerce::store_hash(&domain).ok_or_else(|| {
            AppError::bad_request("bc_token is for BigCommerce stores (shop=store-{hash})")
        })?;
        let (Some(client_id), Some(secret)) = (&config.client_id, &config.client_secret) else {
            return Err(AppError::new(
                ErrorCode::Unavailable,
                "this app has no BigCommerce client id and secret to check bc_token with",
            ));
        };
        let previous = config.previous_client_secret.as_ref();
        let id = current_customer::verify(token, client_id, secret, previous, hash)
            .map_err(|e| AppError::new(ErrorCode::InvalidSignature, e.to_string()))?;
        if customer.is_some_and(|claimed| claimed != id) {
            return Err(AppError::new(
                ErrorCode::InvalidSignature,
                "customer is not the one the BigCommerce customer token names",
            ));
        }
        Ok(Self {
            platform: Some(Platform::BigCommerce),
            domain,
            customer: Customer::Proven(id),
        })
    }

    /// Finds the shop (it must have Boomerang installed) and checks the customer's digest.
    pub fn resolve(self, conn: &mut DbConnection, keys: &Keys) -> Result<Shopper, AppError> {
        let shop = match self.platform {
            Some(p) => Shop::find_by_domain(conn, p, &self.domain),
            None => Shop::find_by_any_domain(conn, &self.domain),
        }?
        .filter(|s| s.install_state == InstallState::Installed)
        .ok_or_else(|| AppError::not_found("this shop does not run Boomerang"))?;
        record_shop(&shop.domain);
        let customer_id = match self.customer {
            Customer::Proven(id) => Some(id),
            Customer::Guest => None,
            Customer::Claimed { id, digest } => {
                // Other platforms: hex(HMAC-SHA256(customer id, the shop's widget secret)).
                if !keys.verify_widget_digest(&shop.id, &id, &digest.unwrap_or_default()) {
                    return Err(AppError::new(
                        ErrorCode::InvalidSignature,
                        "invalid customer digest",
                    ));
                }
                Some(id)
            }
        };
        Ok(Shopper { shop, customer_id })
    }
}

/// Who the request says the shopper is, before the digest is checked.
#[derive(Debug)]
enum Customer {
    Proven(String),
    Guest,
    Claimed { id: String, digest: Option<String> },
}

impl From<Option<String>> for Customer {
    fn from(id: Option<String>) -> Self {
        id.map_or(Customer::Guest, Customer::Proven)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    reward_id: String,
    /// For variable rewards: how many points to spend.
    points: Option<i64>,
}

impl From<RedeemError> for AppError {
    fn from(e: RedeemError) -> Self {
        let code = match &e {
            RedeemError::UnknownReward(_) => ErrorCode::NotFound,
            RedeemError::NotAllowed(_) | RedeemError::NotAMember => ErrorCode::Forbidden,
            RedeemError::Invalid(_) => ErrorCode::ValidationFailed,
            RedeemError::InsufficientPoints { .. } => ErrorCode::InsufficientPoints,
            RedeemError::Platform(_) | RedeemError::SettledMeanwhile => ErrorCode::PlatformError,
            RedeemError::InvalidDiscount(_) => ErrorCode::ValidationFailed,
            RedeemError::NotConnected | RedeemError::Unsupported(_) | RedeemError::Unconfirmed => {
                ErrorCode::Unavailable
            }
            RedeemError::Database(_) | RedeemError::Unavailable(_) => return AppError::internal(e),
        };
        AppError::new(code, e.to_string())
    }
}

/// `POST {base}/redeem` `{"reward_id":…}` → `{"code","expires_at","points"}`; for a donation or
/// custom reward `{"code":null,"expires_at":null,"fulfilment_id","status":"open","kind","points"}`.
pub async fn redeem(
    claim: ShopperClaim,
    body: web::Json<RedeemBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let keys = state.keys.clone();
    let shopper = state.db.run(move |c| claim.resolve(c, &keys)).await?;
    let customer_id = shopper
        .customer_id
        .ok_or_else(|| AppError::unauthorized("log in to redeem rewards"))?;
    let body = body.into_inner();
    let redeemed = redeem::redeem(
        &state.db,
        &crate::platform::StoreApi::for_shop(&shopper.shop, &state.shopify),
        &state.keys,
        &shopper.shop,
        &customer_id,
        &body.reward_id,
        body.points,
    )
    .await?;
    Ok(HttpResponse::Ok().json(match redeemed {
        Redeemed::Code(issued) => serde_json::json!({
            "code": issued.code,
            "expires_at": issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "points": issued.points,
        }),
        Redeemed::Fulfilment(opened) => serde_json::json!({
            "code": null,
            "expires_at": null,
            "fulfilment_id": opened.fulfilment_id,
            "status": "open",
            "kind": opened.kind,
            "points": opened.points,
        }),
    }))
}

#[derive(Debug, Deserialize)]
pub struct StateQuery {
    /// The storefront's language (Shopify's `request.locale.iso_code`), e.g. `ar` or `en-GB`.
    locale: Option<String>,
}

/// `GET {base}/state`: the shopper's points, rewards, ways to earn and history, in the
/// storefront's language. Read-only.
pub async fn state(
    claim: ShopperClaim,
    query: web::Query<StateQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let locale = query.into_inner().locale;
    let keys = state.keys.clone();
    let public_url = state.config.public_url.clone();
    let body = state
        .db
        .run(move |c| {
            let (shop, mut body) = read_snapshot(c, |c| {
                let shopper = claim.resolve(c, &keys)?;
                let body = crate::services::storefront_state::state(
                    c,
                    &shopper.shop,
                    shopper.customer_id.as_deref(),
                    locale.as_deref(),
                    &public_url,
                )
                .map_err(AppError::from)?;
                Ok::<_, AppError>((shopper.shop, body))
            })?;
            // A member's first read since the shop runs referrals: make their code (once).
            if let (Some(_), Some(member)) = (&body.referral, body.member.as_mut()) {
                if let (None, Some(member_id)) = (&member.referral_code, &member.member_id) {
                    let code = crate::db::write_transaction(c, |c| {
                        crate::services::referrals::ensure_code(c, &shop.id, member_id)
                    })
                    .map_err(AppError::from)?;
                    member.referral_url =
                        Some(crate::services::referrals::referral_url(&public_url, &code));
                    member.referral_code = Some(code);
                }
            }
            Ok::<_, AppError>(body)
        })
        .await?;
    // Per shopper and changing with every order: never cached by a shared cache.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(body))
}
