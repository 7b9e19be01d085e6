//! Applying a stored webhook: map the payload to an internal event and run it through the
//! domain and the ledger. Runs inside the transaction that stored the event (the fast path) or
//! later from the `apply_inbox_event` job; either way each event is applied once.
//!
//! Outcomes are recorded on the inbox row: `applied`, `ignored` (nothing to do), `failed` (the
//! payload does not have the expected shape: kept, visible to the owner, replayable after a
//! fix), or left `pending` with a job queued when the failure is worth retrying.

use serde_json::Value;

use crate::db::models::{InboxEvent, Shop};
use crate::db::types::{InboxStatus, InstallState, Platform};
use crate::db::DbConnection;
use crate::domain::event::{Event, MappingError};
use crate::domain::money::Currency;
use crate::jobs::{self, JobKind, JobSpec};
use crate::platform::shopify::payload::map_shopify;
use crate::services::ledger::LedgerError;
use crate::services::{compliance, earn, members};

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Retrying cannot help until the code or the shop's settings change.
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying (database busy, lost a race).
    #[error(transparent)]
    Transient(#[from] diesel::result::Error),
}

impl From<LedgerError> for ApplyError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Database(db) => Self::Transient(db),
            other => Self::Permanent(other.to_string()),
        }
    }
}

impl From<MappingError> for ApplyError {
    fn from(e: MappingError) -> Self {
        Self::Permanent(e.to_string())
    }
}

/// Maps and applies one event. Returns `Ignored` when there was nothing to do.
pub fn apply(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, ApplyError> {
    if shop.install_state == InstallState::Redacted {
        return Ok(InboxStatus::Ignored);
    }
    let body: Value = serde_json::from_str(&event.payload)
        .map_err(|e| ApplyError::Permanent(format!("stored body is not JSON: {e}")))?;
    if holds_nul(&body) {
        // PostgreSQL cannot store U+0000 in text: applying would fail again at every retry.
        return Err(ApplyError::Permanent(
            "the body contains a NUL character (U+0000), which cannot be stored".into(),
        ));
    }
    let mapped = match event.platform {
        Platform::Shopify => {
            let currency = Currency::parse(&shop.currency)
                .map_err(|e| ApplyError::Permanent(format!("shop currency: {e}")))?;
            map_shopify(&event.topic, &body, &currency)?
        }
        other => return Err(ApplyError::Permanent(format!("no adapter for {other} yet"))),
    };
    let Some(mapped) = mapped else {
        return Ok(InboxStatus::Ignored);
    };
    match mapped {
        Event::Order(facts) => earn::apply_order(conn, shop, &facts, false, now)?,
        Event::OrderCancelled(facts) => earn::apply_order(conn, shop, &facts, true, now)?,
        Event::Refund(refund) => earn::apply_refund(conn, shop, &refund, now)?,
        Event::Customer(facts) => crate::services::customer_events::apply(
            conn,
            shop,
            &facts,
            event.topic == "customers/create",
            now,
        )?,
        Event::AppUninstalled => compliance::uninstall(conn, shop, now)?,
        Event::CustomerRedact { customer, orders } => {
            compliance::redact_customer(conn, shop, &customer, &orders, now)?;
        }
        Event::ShopRedact => compliance::redact_shop(conn, shop, now)?,
        Event::CustomerDataRequest { customer, .. } => {
            // The owner answers the request; the admin API serves the member and its ledger.
            // Looking up must not create: a stranger's request stores nothing about them.
            let known = members::find_existing(conn, &shop.id, &customer)?.is_some();
            tracing::info!(shop = %shop.domain, known, "customer data request recorded");
        }
    }
    Ok(InboxStatus::Applied)
}

/// True when a string or key anywhere in `value` contains U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Applies a just-stored event inside the caller's transaction, isolating its failure in a
/// savepoint so the stored event itself is never lost.
pub fn apply_stored(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, diesel::result::Error> {
    use diesel::Connection;
    let outcome = conn.transaction(|c| apply(c, shop, event, now));
    let (status, error) = match outcome {
        Ok(status) => (status, None),
        Err(ApplyError::Permanent(msg)) => {
            tracing::warn!(shop = %shop.domain, topic = %event.topic, error = %msg, "webhook kept as failed");
            (InboxStatus::Failed, Some(msg))
        }
        Err(ApplyError::Transient(e)) => {
            tracing::warn!(shop = %shop.domain, topic = %event.topic, error = %e, "webhook stored; applying it later");
            // Counted as an attempt, so the applier's sweep leaves it to the job.
            InboxEvent::mark(
                conn,
                &shop.id,
                &event.id,
                InboxStatus::Pending,
                Some(&e.to_string()),
                now,
            )?;
            jobs::enqueue(
                conn,
                JobSpec {
                    shop_id: shop.id.clone(),
                    kind: JobKind::ApplyInboxEvent,
                    payload: serde_json::json!({ "inbox_event_id": event.id }),
                    dedupe_key: Some(event.id.clone()),
                    run_at: now,
                    max_attempts: 10,
                },
            )?;
            return Ok(InboxStatus::Pending);
        }
    };
    // `shop/redact` deletes nothing of the inbox but its bodies; the row itself stays.
    InboxEvent::mark(conn, &shop.id, &event.id, status, error.as_deref(), now)?;
    Ok(status)
}

/// The `apply_inbox_event` job: applies a pending (or, for a replay, failed) event.
pub fn run_job(
    conn: &mut DbConnection,
    job: &crate::db::models::Job,
) -> Result<(), jobs::JobError> {
    let id = serde_json::from_str::<Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("inbox_event_id")?.as_str().map(str::to_owned))
        .ok_or_else(|| jobs::JobError::Permanent("job payload lacks inbox_event_id".into()))?;
    crate::db::write_transaction(conn, |c| {
        let event = InboxEvent::find(c, &job.shop_id, &id)?;
        if matches!(event.status, InboxStatus::Applied | InboxStatus::Ignored) {
            return Ok(());
        }
        let shop = Shop::find(c, &job.shop_id)?;
        match apply(c, &shop, &event, crate::db::now()) {
            Ok(status) => InboxEvent::mark(c, &shop.id, &id, status, None, crate::db::now())
                .map_err(Into::into),
            Err(ApplyError::Permanent(msg)) => {
                InboxEvent::mark(
                    c,
                    &shop.id,
                    &id,
                    InboxStatus::Failed,
                    Some(&msg),
                    crate::db::now(),
                )?;
                Ok(())
            }
            Err(ApplyError::Transient(e)) => Err(jobs::JobError::Retry(e.to_string())),
        }
    })
}
