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
    // Guest rows merged into the account may hold an earlier e-mail of the same person.
    let merged: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::merged_into.eq_any(&member_ids))
        .select(members::id)
        .load(conn)?;
    member_ids.extend(merged);
    member_ids.sort();
    member_ids.dedup();
    let mut emails: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::id.eq_any(&member_ids))
        .select(members::email)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect();
    emails.extend(email.clone());
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
    let person = Person {
        customer_id: id,
        emails: emails.iter().filter_map(|e| normalise_email(e)).collect(),
        order_ids,
    };
    scrub_stored_webhooks(conn, &shop.id, &person)?;
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
            shops::consumer_key_enc.eq(None::<String>),
            shops::consumer_secret_enc.eq(None::<String>),
            shops::program.eq("{}"),
            shops::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// What identifies one person in stored webhook bodies.
struct Person {
    customer_id: Option<String>,
    emails: Vec<String>,
    order_ids: Vec<String>,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Replaces the bodies of the shop's stored webhooks that are about `person`. Candidates are
/// found with a coarse text search, then each body is parsed and matched exactly on its
/// customer id, e-mail and order ids, so another customer whose e-mail merely contains this one
/// keeps their (replayable) history.
fn scrub_stored_webhooks(
    conn: &mut DbConnection,
    shop_id: &str,
    person: &Person,
) -> QueryResult<usize> {
    let needles: Vec<String> = person
        .customer_id
        .iter()
        .chain(&person.emails)
        .chain(&person.order_ids)
        .map(|n| format!("%{}%", n.to_lowercase()))
        .collect();
    let mut scrubbed = 0;
    for needle in needles {
        let candidates: Vec<(String, String)> = inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(lower(inbox_events::payload).like(needle))
            .select((inbox_events::id, inbox_events::payload))
            .load(conn)?;
        for (id, payload) in candidates {
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&payload) else {
                continue;
            };
            if is_about(&body, person) {
                scrubbed += diesel::update(
                    inbox_events::table
                        .filter(inbox_events::shop_id.eq(shop_id))
                        .filter(inbox_events::id.eq(&id)),
                )
                .set(inbox_events::payload.eq(REDACTED_PAYLOAD))
                .execute(conn)?;
            }
        }
    }
    Ok(scrubbed)
}

/// Whether a webhook body (order, refund, customer or compliance payload) concerns `person`.
fn is_about(body: &serde_json::Value, person: &Person) -> bool {
    use serde_json::Value;
    let id_text = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let email_matches = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(normalise_email)
            .is_some_and(|e| person.emails.contains(&e))
    };
    let customer = body.get("customer");
    let customer_id = id_text(customer.and_then(|c| c.get("id")));
    let same_customer = person.customer_id.is_some() && customer_id == person.customer_id;
    // A customer payload's own `id` is the customer; an order's is the order.
    let is_customer_payload = body.get("line_items").is_none() && body.get("order_id").is_none();
    let own_id = id_text(body.get("id"));
    same_customer
        || email_matches(body.get("email"))
        || email_matches(body.get("contact_email"))
        || email_matches(customer.and_then(|c| c.get("email")))
        || (is_customer_payload && person.customer_id.is_some() && own_id == person.customer_id)
        || (!is_customer_payload && own_id.is_some_and(|o| person.order_ids.contains(&o)))
        || id_text(body.get("order_id")).is_some_and(|o| person.order_ids.contains(&o))
}
