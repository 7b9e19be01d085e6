//! The demo pages: a stand-in storefront, the demo shop's data, and the local mail outbox.
//! They only ever show the demo shop (`is_demo`), never a real shop's data, and only while the
//! app runs on the public demo credentials: with real ones, `/demo` would hand anyone a valid
//! customer digest for the demo shop of a production instance.

use actix_web::{web, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use diesel::prelude::*;

use crate::db::models::{InboxEvent, LedgerEntry, Member, Shop};
use crate::db::schema::{ledger_entries, members};
use crate::db::types::InboxStatus;
use crate::db::DbError;
use crate::domain::widget::Locale;
use crate::error::{AppError, ErrorCode};
use crate::services::demo;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
struct MemberRow {
    customer_id: String,
    name: String,
    email: String,
    points_balance: i64,
    pending_points: i64,
    lifetime_points: i64,
    /// The tier's id (`gold`), empty without one.
    tier: String,
    /// Empty until the member's widget first asked for it.
    referral_code: String,
}

impl From<&Member> for MemberRow {
    fn from(m: &Member) -> Self {
        let name = [m.first_name.as_deref(), m.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            customer_id: m
                .platform_customer_id
                .clone()
                .unwrap_or_else(|| "guest".into()),
            name,
            email: m.email.clone().unwrap_or_default(),
            points_balance: m.points_balance,
            pending_points: m.pending_points,
            lifetime_points: m.lifetime_points,
            tier: m.tier.clone().unwrap_or_default(),
            referral_code: m.referral_code.clone().unwrap_or_default(),
        }
    }
}

async fn demo_shop(state: &AppState) -> Result<Shop, AppError> {
    if !state.config.shopify.using_demo_credentials {
        return Err(AppError::not_found(
            "the demo is served only on the public demo credentials",
        ));
    }
    state
        .db
        .run(|c| Shop::find_demo(c).map_err(DbError::from))
        .await?
        .ok_or_else(|| AppError::not_found("this instance has no demo shop; run `boomerang demo`"))
}

#[derive(Debug, Deserialize)]
pub struct StorefrontQuery {
    /// `guest`, or a demo customer's id; Ada (7001) by default.
    #[serde(rename = "as")]
    shopper: Option<String>,
    /// The storefront's language: `en` (default) or `ar`.
    lang: Option<String>,
}

/// `GET /demo`: a storefront with the widget, as a shopper of the demo shop sees it.
pub async fn storefront(
    state: web::Data<AppState>,
    query: web::Query<StorefrontQuery>,
) -> Result<HttpResponse, AppError> {
    let shop = demo_shop(&state).await?;
    let query = query.into_inner();
    let shopper = query.shopper.unwrap_or_else(|| "7001".into());
    let requested = query.lang.as_deref().and_then(Locale::from_tag);
    let (for_db, wanted) = (shop.clone(), shopper.clone());
    let (members, upgrade, locale) = state
        .db
        .run(move |c| {
            let members = Member::list(c, &for_db.id, 100)?;
            let member = members
                .iter()
                .find(|m| m.platform_customer_id.as_deref() == Some(wanted.as_str()));
            // Without a choice on the page, the storefront speaks the shopper's language.
            let locale = requested
                .or_else(|| member.and_then(|m| m.locale.as_deref().and_then(Locale::from_tag)))
                .unwrap_or(Locale::En);
            // The order that takes the shopper to their next tier, offered as one click.
            let upgrade = match member {
                Some(member) => demo::upgrade_order(c, &for_db, member, locale)?,
                None => None,
            };
            Ok::<_, DbError>((members, upgrade, locale))
        })
        .await?;
    let rows: Vec<MemberRow> = members.iter().map(MemberRow::from).collect();
    let current = rows.iter().find(|m| m.customer_id == shopper);
    // The page proves the shopper to the widget API the way a platform plugin would.
    let widget = minijinja::context! {
        src => crate::http::widget::versioned_path(),
        shop => shop.domain.clone(),
        customer => current.map(|m| m.customer_id.clone()),
        digest => current.map(|m| state.keys.widget_digest(&shop.id, &m.customer_id)),
        locale => locale.as_str(),
    };
    state.pages.render(
        "demo_storefront.html",
        minijinja::context! {
            shop => shop_view(&shop),
            members => rows.iter().filter(|m| m.customer_id != "guest").collect::<Vec<_>>(),
            shopper => current.map_or("guest", |m| m.customer_id.as_str()),
            shopper_name => current.map(|m| m.name.clone()),
            lang => locale.as_str(),
            dir => locale.dir(),
            widget,
            demo_orders => state.config.shopify.using_demo_credentials,
            upgrade,
        },
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    customer_id: String,
    /// Whole US dollars, 1–[`demo::MAX_DEMO_ORDER_DOLLARS`].
    amount: i64,
}

/// `POST /demo/orders`: a demo order as Shopify would send it, signed, for the page to deliver
/// to `/webhooks/shopify` itself, so it takes the real path: signature, inbox, ledger.
///
/// Only while the instance runs on the public demo secret: anyone can sign with that secret
/// anyway, so this grants nothing. With a real secret it would be a signing service for
/// bodies that another shop's domain header could be put on.
pub async fn order(
    state: web::Data<AppState>,
    body: web::Json<OrderRequest>,
) -> Result<HttpResponse, AppError> {
    if !state.config.shopify.using_demo_credentials {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "demo orders are only signed while the app uses the public demo secret",
        ));
    }
    let OrderRequest {
        customer_id,
        amount,
    } = body.into_inner();
    if !(1..=demo::MAX_DEMO_ORDER_DOLLARS).contains(&amount) {
        return Err(AppError::validation("amount must be 1–10,000 dollars"));
    }
    let shop = demo_shop(&state).await?;
    let (shop_id, lookup) = (shop.id.clone(), customer_id.clone());
    let member = state
        .db
        .run(move |c| Member::find_by_customer_id(c, &shop_id, &lookup).map_err(DbError::from))
        .await?
        .ok_or_else(|| AppError::not_found("no such demo customer"))?;
    let order_id = chrono::Utc::now().timestamp_micros() / 1000 * 1000
        + i64::from(rand::random::<u16>() % 1000);
    let signed = demo::demo_order(
        &customer_id,
        member.email.as_deref().unwrap_or_default(),
        order_id,
        amount * 100,
        state.config.shopify.api_secret.expose_secret(),
    );
    Ok(HttpResponse::Ok().json(signed))
}

#[derive(Serialize)]
struct LedgerRow {
    created_at: String,
    customer_id: String,
    delta: i64,
    kind: String,
    status: String,
    reason: String,
}

#[derive(Serialize)]
struct InboxRow {
    received_at: String,
    topic: String,
    delivery_id: String,
    status: String,
    error: String,
}

pub async fn admin(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let shop = demo_shop(&state).await?;
    let shop_id = shop.id.clone();
    let for_history = shop.id.clone();
    let (members, tier_changes, ledger, inbox, referrals) = state
        .db
        .run(move |c| {
            let members = Member::list(c, &shop_id, 100)?;
            let referrals = crate::services::referrals::list(c, &shop_id, None, 50)?;
            let mut tier_changes = Vec::new();
            for member in &members {
                tier_changes.extend(crate::services::tiers::history(c, &for_history, member)?);
            }
            tier_changes.sort_by(|a, b| b.at.cmp(&a.at));
            let ledger: Vec<(String, LedgerEntry)> = ledger_entries::table
                .inner_join(members::table)
                .filter(ledger_entries::shop_id.eq(&shop_id))
                .order(ledger_entries::created_at.desc())
                .limit(100)
                .select((members::platform_customer_id, LedgerEntry::as_select()))
                .load::<(Option<String>, LedgerEntry)>(c)?
                .into_iter()
                .map(|(customer, e)| (customer.unwrap_or_else(|| "guest".into()), e))
                .collect();
            let mut inbox = Vec::new();
            for status in InboxStatus::ALL {
                inbox.extend(InboxEvent::list_by_status(c, &shop_id, *status, 50)?);
            }
            inbox.sort_by_key(|event| std::cmp::Reverse(event.received_at));
            Ok::<_, DbError>((members, tier_changes, ledger, inbox, referrals))
        })
        .await?;
    let ledger: Vec<LedgerRow> = ledger
        .into_iter()
        .take(100)
        .map(|(customer_id, e)| LedgerRow {
            created_at: e.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            customer_id,
            delta: e.delta,
            kind: e.kind,
            status: e.status,
            reason: e.reason.unwrap_or_default(),
        })
        .collect();
    let inbox: Vec<InboxRow> = inbox
        .into_iter()
        .take(100)
        .map(|e| InboxRow {
            received_at: e.received_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            topic: e.topic,
            delivery_id: e.delivery_id,
            status: e.status.to_string(),
            error: e.error.unwrap_or_default(),
        })
        .collect();
    let members: Vec<MemberRow> = members.iter().map(MemberRow::from).collect();
    state.pages.render(
        "demo_admin.html",
        minijinja::context! { shop => shop_view(&shop), members, tier_changes, ledger, inbox, referrals },
    )
}

/// `GET /demo/outbox`: what the demo shop's customers were sent (or what waits), newest first.
pub async fn outbox(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let shop = demo_shop(&state).await?;
    let shop_id = shop.id.clone();
    let mails = state
        .db
        .run(move |c| {
            crate::services::mail::list(c, &shop_id, None, None, None, 100).map_err(DbError::from)
        })
        .await?;
    state.pages.render(
        "demo_outbox.html",
        minijinja::context! {
            smtp => state.config.smtp_url.is_some(),
            dir => state.config.data_dir.join("outbox").display().to_string(),
            retention_days => state.config.webhook_retention_days,
            mails,
        },
    )
}

/// `GET /demo/outbox/{id}`: one message as the customer sees it, HTML and text.
pub async fn outbox_message(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let shop = demo_shop(&state).await?;
    let (shop_id, id) = (shop.id.clone(), path.into_inner());
    let email = state
        .db
        .run(move |c| {
            crate::db::models::Email::find(c, &shop_id, &id)
                .optional()
                .map_err(DbError::from)
        })
        .await?
        .ok_or_else(|| AppError::not_found("no such message of the demo shop"))?;
    state.pages.render(
        "demo_message.html",
        minijinja::context! {
            kind => email.kind,
            status => email.status,
            dir => Locale::from_tag(&email.locale).unwrap_or(Locale::En).dir(),
            locale => email.locale,
            to => email.to_address.unwrap_or_default(),
            subject => email.subject.unwrap_or_default(),
            text => email.text_body.unwrap_or_default(),
            html => email.html_body.unwrap_or_default(),
            erased => email.body_erased_at.is_some(),
            retention_days => state.config.webhook_retention_days,
        },
    )
}

fn shop_view(shop: &Shop) -> minijinja::Value {
    minijinja::context! { domain => shop.domain.clone(), currency => shop.currency.clone() }
}

/// `GET /demo/app`: signs the newcomer in to the demo shop's owner admin (`/app`) without a
/// login link: only while the app runs on the public demo credentials, like every demo page.
pub async fn open_admin(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let shop = demo_shop(&state).await?;
    let cookie = state
        .db
        .run(move |c| {
            let now = crate::db::now();
            let token = crate::services::admin_sessions::create_link(c, &shop.id, now)?;
            crate::services::admin_sessions::sign_in(c, &token, now)
                .map(|(cookie, _)| cookie)
                .map_err(|e| AppError::internal(anyhow::anyhow!(e.to_string())))
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(crate::http::app::session::session_cookie(
            cookie,
            crate::http::app::session::secure_cookies(&state),
        ))
        .insert_header(("Location", "/app"))
        .finish())
}
