//! App lifecycle and privacy-law topics: `app/uninstalled`, `customers/redact`, `shop/redact`,
//! `customers/data_request`.
//!
//! Redaction erases personal data but keeps the anonymous ledger, so the shop's points
//! liability and metrics stay correct. Stored webhook bodies mentioning the customer are
//! replaced too: they hold the same personal data.

use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::{inbox_events, jobs, ledger_entries, members, orders, refunds, shops};
use crate::db::types::InstallState;
use crate::db::DbConnection;
use crate::domain::event::{normalise_email, CustomerRef, PlatformId};

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
    let order_ids: Vec<&str> = order_ids.iter().map(PlatformId::as_str).collect();
    diesel::update(
        orders::table.filter(orders::shop_id.eq(&shop.id)).filter(
            orders::member_id
                .eq_any(&member_ids)
                .or(orders::platform_order_id.eq_any(&order_ids)),
        ),
    )
    .set((
        orders::email.eq(None::<String>),
        orders::snapshot.eq("{}"),
        orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    // Stored deliveries that carry the customer's id, e-mail or orders.
    let mut needles: Vec<String> = Vec::new();
    needles.extend(id.iter().map(|i| format!("%{i}%")));
    needles.extend(email.iter().map(|e| format!("%{e}%")));
    needles.extend(order_ids.iter().map(|o| format!("%{o}%")));
    for needle in needles {
        diesel::update(
            inbox_events::table
                .filter(inbox_events::shop_id.eq(&shop.id))
                .filter(inbox_events::payload.like(needle)),
        )
        .set(inbox_events::payload.eq(REDACTED_PAYLOAD))
        .execute(conn)?;
    }
    Ok(redacted)
}

/// Erases everything the app holds for the shop (48 h after uninstall). The shop row stays,
/// marked redacted and stripped of secrets, so later deliveries are recognised and ignored.
pub fn redact_shop(
    conn: &mut DbConnection,
    shop: &Shop,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(jobs::table.filter(jobs::shop_id.eq(&shop.id))).execute(conn)?;
    diesel::delete(refunds::table.filter(refunds::shop_id.eq(&shop.id))).execute(conn)?;
    diesel::delete(ledger_entries::table.filter(ledger_entries::shop_id.eq(&shop.id)))
        .execute(conn)?;
    diesel::delete(orders::table.filter(orders::shop_id.eq(&shop.id))).execute(conn)?;
    // Guests merged into accounts point at them; clear that link before deleting.
    diesel::update(members::table.filter(members::shop_id.eq(&shop.id)))
        .set(members::merged_into.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(members::table.filter(members::shop_id.eq(&shop.id))).execute(conn)?;
    diesel::update(inbox_events::table.filter(inbox_events::shop_id.eq(&shop.id)))
        .set(inbox_events::payload.eq(REDACTED_PAYLOAD))
        .execute(conn)?;
    diesel::update(shops::table.find(&shop.id))
        .set((
            shops::install_state.eq(InstallState::Redacted.as_str()),
            shops::access_token_enc.eq(None::<String>),
            shops::webhook_secret_enc.eq(None::<String>),
            shops::api_key_hash.eq(None::<String>),
            shops::program.eq("{}"),
            shops::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
