//! App lifecycle and privacy-law topics: `app/uninstalled`, `customers/redact`, `shop/redact`,
//! `customers/data_request`.
//!
//! Redaction erases personal data but keeps the anonymous ledger, so the shop's points
//! liability and metrics stay correct. Stored webhook bodies about the customer are replaced
//! too (they hold the same personal data), by an `erase_webhook_bodies` job: the acknowledging
//! writer only redacts the member rows, and the job finds the bodies by the customer and order
//! ids stored beside them, not by searching their text.

use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::{inbox_events, jobs, members, orders, shops};
use crate::db::types::InstallState;
use crate::db::{write_transaction, DbConnection};
use crate::domain::event::{normalise_email, CustomerRef, PlatformId};
use crate::queue::{Job, JobError, JobKind, JobSpec};

mod subject;
pub use subject::Subject;

const REDACTED_PAYLOAD: &str = r#"{"redacted":true}"#;

pub fn uninstall(
    conn: &mut DbConnection,
    shop: &Shop,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    // The token is dead once the app is removed; keeping it would only be a liability.
    diesel::update(shops::table.find(&shop.id))
        .set((
            shops::install_state.eq(InstallState::Uninstalled.as_str()),
            shops::access_token_enc.eq(None::<String>),
            shops::refresh_token_enc.eq(None::<String>),
            shops::access_token_expires_at.eq(None::<chrono::NaiveDateTime>),
            shops::refresh_token_expires_at.eq(None::<chrono::NaiveDateTime>),
            shops::uninstalled_at.eq(Some(now)),
            shops::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Erases one customer's personal data; returns how many members were redacted.
pub fn redact_customer(
    conn: &mut DbConnection,
    shop: &Shop,
    customer: &CustomerRef,
    order_ids: &[PlatformId],
    now: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    let email = customer.email.as_deref().and_then(normalise_email);
    let id = customer.id.as_ref().map(|i| i.as_str().to_owned());
    let mut member_ids: Vec<String> = Vec::new();
    if let Some(id) = &id {
        member_ids.extend(
            members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::platform_customer_id.eq(id))
                .select(members::id)
                .load::<String>(conn)?,
        );
    }
    if let Some(email) = &email {
        member_ids.extend(
            members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::email.eq(email))
                .select(members::id)
                .load::<String>(conn)?,
        );
    }
    // Guest rows merged into the account may hold an earlier e-mail of the same person.
    let merged: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::merged_into.eq_any(&member_ids))
        .select(members::id)
        .load(conn)?;
    member_ids.extend(merged);
    member_ids.sort();
    member_ids.dedup();
    let redacted = diesel::update(
        members::table
            .filter(members::shop_id.eq(&shop.id))
            .filter(members::id.eq_any(&member_ids)),
    )
    .set((
        members::email.eq(None::<String>),
        members::first_name.eq(None::<String>),
        members::last_name.eq(None::<String>),
        members::birthday.eq(None::<chrono::NaiveDate>),
        members::accepts_marketing.eq(false),
        members::redacted_at.eq(Some(now)),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
    forget_as_friend(conn, shop, &member_ids, email.as_deref(), now)?;
    forget_mail(conn, shop, &member_ids, now)?;
    crate::services::outgoing::forget_customer(
        conn,
        &shop.id,
        id.as_deref(),
        email.as_deref(),
        now,
    )?;
    crate::services::retention::facts::forget(conn, &shop.id, &member_ids)?;
    crate::services::retention::replenishment::forget(conn, &shop.id, &member_ids)?;
    crate::services::nps::forget_members(conn, &shop.id, &member_ids, now)?;
    let mut order_ids: Vec<String> = order_ids.iter().map(|o| o.as_str().to_owned()).collect();
    order_ids.extend(
        orders::table
            .filter(orders::shop_id.eq(&shop.id))
            .filter(orders::member_id.eq_any(&member_ids))
            .select(orders::platform_order_id)
            .load::<String>(conn)?,
    );
    diesel::update(
        orders::table
            .filter(orders::shop_id.eq(&shop.id))
            .filter(orders::platform_order_id.eq_any(&order_ids)),
    )
    .set((
        orders::email.eq(None::<String>),
        orders::snapshot.eq("{}"),
        orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    let mut customer_ids: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::id.eq_any(&member_ids))
        .select(members::platform_customer_id)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect();
    customer_ids.extend(id);
    customer_ids.sort();
    customer_ids.dedup();
    order_ids.sort();
    order_ids.dedup();
    crate::queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::EraseWebhookBodies,
            payload: serde_json::json!({ "customer_ids": customer_ids, "order_ids": order_ids }),
            dedupe_key: None,
            run_at: now,
            max_attempts: 10,
        },
    )?;
    Ok(redacted)
}

/// Erases what the outbox holds of the customer: their address and every message's text (the
/// rows stay, without them, so the owner's counts and the weekly cap still add up). Messages
/// not sent yet will not be: their member has no address left.
fn forget_mail(
    conn: &mut DbConnection,
    shop: &Shop,
    member_ids: &[String],
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::emails;
    diesel::update(
        emails::table
            .filter(emails::shop_id.eq(&shop.id))
            .filter(emails::member_id.eq_any(member_ids)),
    )
    .set((
        emails::to_address.eq(None::<String>),
        emails::subject.eq(None::<String>),
        emails::text_body.eq(None::<String>),
        emails::html_body.eq(None::<String>),
        emails::context.eq("{}"),
        emails::updated_at.eq(now),
    ))
    .execute(conn)?;
    // Mail a burst's batch kept back and that could not be written since (the rest of the
    // shop's kept-back mail was written before this event, and is erased above).
    crate::services::retention::backlog::forget_set_aside_messages(conn, &shop.id, member_ids)
}

/// Erases a redacted customer's e-mail from the referrals they were the friend in (the
/// referral itself stays, for the referrer's reward and the owner's figures) and their claims of
/// a friend's offer.
fn forget_as_friend(
    conn: &mut DbConnection,
    shop: &Shop,
    member_ids: &[String],
    email: Option<&str>,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::{referral_claims, referrals};
    let mailbox = email.and_then(crate::domain::referrals::normalized_email);
    diesel::update(
        referrals::table
            .filter(referrals::shop_id.eq(&shop.id))
            .filter(
                referrals::friend_member_id
                    .eq_any(member_ids)
                    .or(referrals::friend_key.eq(mailbox.clone().unwrap_or_default())),
            ),
    )
    .set((
        referrals::friend_email.eq(None::<String>),
        // The mailbox was the key of "one referral per friend"; the row's own id replaces it.
        referrals::friend_key.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
            "'redacted:' || id",
        )),
        referrals::updated_at.eq(now),
    ))
    .execute(conn)?;
    if let Some(mailbox) = mailbox {
        diesel::delete(
            referral_claims::table
                .filter(referral_claims::shop_id.eq(&shop.id))
                .filter(referral_claims::friend_key.eq(mailbox)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Erases everything the app holds for the shop (48 h after uninstall). The shop row stays,
/// marked redacted and stripped of secrets, so later deliveries are recognised and ignored.
///
/// Only the shop row and its job rows (their payloads name customers and orders) change here,
/// in the acknowledging writer; members, orders, ledger, refunds, redemptions and the stored
/// webhook bodies can be many, so a `retention` job deletes and erases them in short chunks.
pub fn redact_shop(
    conn: &mut DbConnection,
    shop: &Shop,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(jobs::table.filter(jobs::shop_id.eq(&shop.id))).execute(conn)?;
    diesel::update(shops::table.find(&shop.id))
        .set((
            shops::install_state.eq(InstallState::Redacted.as_str()),
            shops::access_token_enc.eq(None::<String>),
            shops::webhook_secret_enc.eq(None::<String>),
            shops::api_key_hash.eq(None::<String>),
            shops::consumer_key_enc.eq(None::<String>),
            shops::consumer_secret_enc.eq(None::<String>),
            shops::dkim_domain.eq(None::<String>),
            shops::dkim_selector.eq(None::<String>),
            shops::dkim_private_key_enc.eq(None::<String>),
            shops::program.eq("{}"),
            shops::updated_at.eq(now),
        ))
        .execute(conn)?;
    crate::queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::Retention,
            payload: serde_json::json!({}),
            dedupe_key: Some("shop-redact".to_owned()),
            run_at: now,
            max_attempts: 10,
        },
    )?;
    Ok(())
}

/// Bodies erased per statement, so the fair writer queue is held only briefly.
const ERASE_CHUNK: usize = 500;

/// The `erase_webhook_bodies` job: replaces the bodies of the shop's stored webhooks about the
/// customer ids and order ids in its payload, found by their keys; returns how many.
pub fn erase_webhook_bodies(conn: &mut DbConnection, job: &Job) -> Result<usize, JobError> {
    #[derive(serde::Deserialize)]
    struct Wanted {
        #[serde(default)]
        customer_ids: Vec<String>,
        #[serde(default)]
        order_ids: Vec<String>,
    }
    let wanted: Wanted = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("job payload: {e}")))?;
    let mut erased = 0;
    for chunk in wanted.customer_ids.chunks(ERASE_CHUNK) {
        erased += write_transaction(conn, |c| {
            diesel::update(
                inbox_events::table
                    .filter(inbox_events::shop_id.eq(&job.shop_id))
                    .filter(inbox_events::customer_id.eq_any(chunk))
                    .filter(inbox_events::payload.ne(REDACTED_PAYLOAD)),
            )
            .set(inbox_events::payload.eq(REDACTED_PAYLOAD))
            .execute(c)
        })?;
    }
    for chunk in wanted.order_ids.chunks(ERASE_CHUNK) {
        erased += write_transaction(conn, |c| {
            diesel::update(
                inbox_events::table
                    .filter(inbox_events::shop_id.eq(&job.shop_id))
                    .filter(inbox_events::order_id.eq_any(chunk))
                    .filter(inbox_events::payload.ne(REDACTED_PAYLOAD)),
            )
            .set(inbox_events::payload.eq(REDACTED_PAYLOAD))
            .execute(c)
        })?;
    }
    Ok(erased)
}
