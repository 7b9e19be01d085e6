//! The periodic work: which jobs each installed shop gets every hour or day, decided from its
//! program and platform access (the services know both; the queue only keeps the buckets).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::DbConnection;
use crate::queue::{enqueue_once, JobKind};

/// The PostgreSQL advisory lock key of [`enqueue_periodic`] (any constant; "BOOMPERI").
const PERIODIC_LOCK: i64 = 0x424f_4f4d_5045_5249;

/// Enqueues the periodic work of every installed shop (hourly buckets, each enqueued once).
/// Cheap enough to call every few minutes. Old job rows are pruned by each shop's daily
/// retention job. Call in a write transaction.
pub fn enqueue_periodic(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    // Instances enqueue one after the other: each checks whether a bucket was ever queued, then
    // adds it, and the dedupe index only covers live jobs. Without the lock, two instances that
    // both saw nothing could each add a bucket, one after the other had already finished, and
    // the work would run twice. SQLite's write transaction is already exclusive.
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PERIODIC_LOCK})")).execute(c)?;
    }
    let installed: Vec<Shop> = shops::table
        .filter(shops::install_state.eq(crate::db::types::InstallState::Installed.as_str()))
        .select(Shop::as_select())
        .load(conn)?;
    let hour = now.format("%Y-%m-%dT%H").to_string();
    let mut added = 0;
    for shop in installed {
        let mut wanted = vec![(JobKind::ConfirmPoints, format!("confirm:{hour}"))];
        let program = crate::services::program::Program::of(&shop);
        let daily = |prefix: &str| now.format(&format!("{prefix}:%Y-%m-%d")).to_string();
        wanted.push((JobKind::Retention, daily("retention")));
        // On the shop's own day, so the segments move soon after its midnight.
        let local_day =
            crate::domain::calendar::local_date(crate::domain::calendar::zone(&shop.timezone), now);
        wanted.push((JobKind::SegmentCustomers, format!("segments:{local_day}")));
        // A safety net under the jobs the outbox queues for itself: a row put off (quiet hours,
        // a retry) whose job was lost to a crash still goes within the hour.
        if crate::services::mail::has_due_mail(conn, &shop.id, now)? {
            wanted.push((JobKind::DeliverEmails, format!("mail:{hour}")));
        }
        if crate::services::outgoing::has_due_webhooks(conn, &shop.id, now)? {
            wanted.push((JobKind::DeliverWebhooks, format!("webhooks:{hour}")));
        }
        if program.tiers.is_some() {
            // Hourly, so a review day begins close to midnight in the shop's own time zone.
            wanted.push((JobKind::TierReview, format!("tier_review:{hour}")));
        }
        if program.earning.birthday_points > 0 {
            // On the shop's own day: a birthday begins at the shop's midnight, not UTC's.
            wanted.push((JobKind::AwardBirthdays, format!("birthdays:{local_day}")));
        }
        if program.expiry.is_some() {
            wanted.push((JobKind::ExpirePoints, daily("expiry")));
        }
        let has_api =
            shop.access_token_enc.is_some() && shop.platform == crate::db::types::Platform::Shopify;
        // Every WooCommerce shop: its webhooks are never retried. One without REST API keys
        // is skipped by the job with a log line, so the owner can see why.
        // A BigCommerce shop with its token: its webhooks stop for good after two days of
        // failures, and whatever they missed is found here.
        let reconciles = has_api
            || shop.platform == crate::db::types::Platform::WooCommerce
            || (shop.platform == crate::db::types::Platform::BigCommerce
                && shop.access_token_enc.is_some());
        if reconciles {
            wanted.push((
                JobKind::ReconcileOrders,
                crate::services::reconcile::due_key(now),
            ));
        }
        if has_api && !program.earning.collection_multipliers.is_empty() {
            wanted.push((JobKind::SyncCollections, daily("collections")));
        }
        for (kind, key) in wanted {
            added += usize::from(enqueue_once(conn, &shop.id, kind, key, now)?);
        }
    }
    Ok(added)
}
