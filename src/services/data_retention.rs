//! The daily `retention` job of a shop: erases the raw bodies of webhooks it no longer needs and
//! the text of settled e-mails, and forgets old job rows; after `shop/redact`, the same job
//! erases every stored body of the shop.
//!
//! Bodies are erased, not rows: the row keeps its status, ids, keys and timestamps (duplicate
//! deliveries are still recognised, the owner's list stays whole) and `body_erased_at` says the
//! body is gone, so a replay is refused instead of applying `{}`. The facts a body produced
//! (ledger lines, orders) stay. Failed and pending events keep their bodies until they are
//! applied, replayed or dismissed: the owner may still need them.
//!
//! Work is done in chunks of [`CHUNK`] rows, each in its own short write transaction: SQLite has
//! one writer, and webhooks must keep being stored and acknowledged while a big shop is cleaned.
//!
//! Outgoing webhook messages that are settled (delivered or failed) are deleted with their
//! attempts after `services::outgoing::LOG_KEPT` (30 days); after `shop/redact`, all of them and
//! the shop's subscriptions.
//!
//! Settled e-mail (sent, failed, suppressed, held out, merged) keeps its row, the owner's log
//! (recipient, subject, status, times), and loses its text (both parts and the facts it was
//! rendered from) after the same `WEBHOOK_RETENTION_DAYS`; `body_erased_at` marks it. Mail still
//! queued, sending or capped keeps its text until it settles. A customer's redaction erases it
//! at once (`services::compliance`).
//!
//! Job rows: done and dismissed ones go after [`JOB_ROWS_KEPT`]; failed ones (dead letters) stay
//! until the owner or operator retries or dismisses them.
//!
//! The used BigCommerce `signed_payload_jwt`s (of every store) go once they have expired
//! (`services::install::bigcommerce::used_payloads`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::{
    affiliate_orders, affiliates, customer_facts, email_suppressions, emails, entry_rewards,
    fulfilments, inbox_events, jobs, ledger_entries, members, metric_day_changes, metric_days,
    metric_engagement, metric_orders, metric_spells, nps_responses, nps_surveys, orders,
    point_reminders, product_collections, product_purchases, redemptions, referral_claims,
    referral_clicks, referrals, refunds, rollup_backlog, tier_activity, tier_events, tier_grants,
    webhook_attempts, webhook_messages, webhook_subscriptions, win_back_entries,
};
use crate::db::types::{InboxStatus, InstallState, JobStatus};
use crate::db::{write_transaction, DbConnection};
use crate::services::mail::status as mail_status;

/// Rows erased or deleted per write transaction.
const CHUNK: i64 = 500;

/// What an erased body is replaced by (the column is NOT NULL; `body_erased_at` is the mark).
pub const ERASED_BODY: &str = "{}";

/// How long done and dismissed job rows are kept: the one rule for pruning the queue, a week,
/// long enough to look back at what ran, short enough that payloads do not pile up. Failed rows
/// are kept until retried or dismissed.
pub const JOB_ROWS_KEPT: Duration = Duration::days(7);

/// E-mail statuses whose text retention erases: nothing will render or send it again.
const SETTLED_MAIL: [&str; 5] = [
    mail_status::SENT,
    mail_status::FAILED,
    mail_status::SUPPRESSED,
    mail_status::HELD_OUT,
    mail_status::MERGED,
];

/// Statuses whose bodies retention erases: the event is settled and nobody will replay it.
const SETTLED: [InboxStatus; 3] = [
    InboxStatus::Applied,
    InboxStatus::Ignored,
    InboxStatus::Dismissed,
];

/// What one retention run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub bodies_erased: usize,
    pub mail_bodies_erased: usize,
    pub jobs_pruned: usize,
    pub used_payloads_pruned: usize,
}

/// Runs retention for one shop at `now`, keeping bodies `retention_days` days.
pub fn run(
    conn: &mut DbConnection,
    shop_id: &str,
    retention_days: u32,
    now: NaiveDateTime,
) -> QueryResult<Report> {
    let shop = Shop::find(conn, shop_id)?;
    let (bodies_erased, mail_bodies_erased) = if shop.install_state == InstallState::Redacted {
        // The shop's e-mails are deleted with its other rows.
        delete_shop_rows(conn, shop_id)?;
        (erase_all_bodies(conn, shop_id, now)?, 0)
    } else {
        let before = now - Duration::days(i64::from(retention_days));
        (
            erase_settled_bodies(conn, shop_id, before, now)?,
            erase_settled_mail(conn, shop_id, before, now)?,
        )
    };
    let jobs_pruned = prune_jobs(conn, shop_id, now - JOB_ROWS_KEPT)?;
    write_transaction(conn, |c| {
        crate::services::outgoing::prune_log(c, shop_id, now)
    })?;
    let used_payloads_pruned = write_transaction(conn, |c| {
        crate::services::install::bigcommerce::used_payloads::prune_expired(c, now)
    })?;
    Ok(Report {
        bodies_erased,
        mail_bodies_erased,
        jobs_pruned,
        used_payloads_pruned,
    })
}

/// Erases the text of the shop's settled e-mails queued before `before`.
fn erase_settled_mail(
    conn: &mut DbConnection,
    shop_id: &str,
    before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    in_chunks(
        conn,
        |c| {
            emails::table
                .filter(emails::shop_id.eq(shop_id))
                .filter(emails::body_erased_at.is_null())
                .filter(emails::created_at.lt(before))
                .filter(emails::status.eq_any(SETTLED_MAIL))
                .order(emails::created_at.asc())
                .limit(CHUNK)
                .select(emails::id)
                .load(c)
        },
        |c, ids| {
            // The status is checked again: a capped message may have moved on since the read.
            diesel::update(
                emails::table
                    .filter(emails::shop_id.eq(shop_id))
                    .filter(emails::id.eq_any(ids))
                    .filter(emails::body_erased_at.is_null())
                    .filter(emails::status.eq_any(SETTLED_MAIL)),
            )
            .set((
                emails::text_body.eq(None::<String>),
                emails::html_body.eq(None::<String>),
                emails::context.eq(ERASED_BODY),
                emails::body_erased_at.eq(Some(now)),
            ))
            .execute(c)
        },
    )
}

/// Erases the bodies of the shop's settled events received before `before`.
fn erase_settled_bodies(
    conn: &mut DbConnection,
    shop_id: &str,
    before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let settled: Vec<&str> = SETTLED.iter().map(|s| s.as_str()).collect();
    in_chunks(
        conn,
        |c| {
            inbox_events::table
                .filter(inbox_events::shop_id.eq(shop_id))
                .filter(inbox_events::body_erased_at.is_null())
                .filter(inbox_events::received_at.lt(before))
                .filter(inbox_events::status.eq_any(&settled))
                .order(inbox_events::received_at.asc())
                .limit(CHUNK)
                .select(inbox_events::id)
                .load(c)
        },
        |c, ids| {
            // The status is checked again: a replay may have changed it since the read.
            diesel::update(
                inbox_events::table
                    .filter(inbox_events::shop_id.eq(shop_id))
                    .filter(inbox_events::id.eq_any(ids))
                    .filter(inbox_events::body_erased_at.is_null())
                    .filter(inbox_events::status.eq_any(&settled)),
            )
            .set((
                inbox_events::payload.eq(ERASED_BODY),
                inbox_events::body_erased_at.eq(Some(now)),
            ))
            .execute(c)
        },
    )
}

/// Runs `apply` on each chunk of ids that `next` reads, until it reads none, each chunk in its
/// own short write transaction; returns the rows `apply` changed.
fn in_chunks(
    conn: &mut DbConnection,
    mut next: impl FnMut(&mut DbConnection) -> QueryResult<Vec<String>>,
    mut apply: impl FnMut(&mut DbConnection, &[String]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let mut changed = 0;
    loop {
        let ids = next(conn)?;
        if ids.is_empty() {
            return Ok(changed);
        }
        changed += write_transaction(conn, |c| apply(c, &ids))?;
    }
}

/// Deletes the rows of `$table` whose `shop_id` is `$shop_id`, [`CHUNK`] per write transaction.
/// Tables keyed by something else than `id` within the shop name their key column.
macro_rules! delete_in_chunks {
    ($conn:expr, $table:ident, $shop_id:expr) => {
        delete_in_chunks!($conn, $table, $shop_id, id)
    };
    ($conn:expr, $table:ident, $shop_id:expr, $key:ident) => {
        in_chunks(
            $conn,
            |c| {
                $table::table
                    .filter($table::shop_id.eq($shop_id))
                    .limit(CHUNK)
                    .select($table::$key)
                    .load(c)
            },
            |c, keys| {
                diesel::delete(
                    $table::table
                        .filter($table::shop_id.eq($shop_id))
                        .filter($table::$key.eq_any(keys)),
                )
                .execute(c)
            },
        )?
    };
}

/// After `shop/redact`: deletes the shop's members and everything about them (ledger, orders,
/// purchase facts, metric roll-ups, win-back entries, product purchases, NPS surveys and responses, refunds, redemptions, entry rewards, fulfilments, reminders, referrals and
/// claims) and its product collections and affiliates. The ledger goes too: the liability
/// report is the shop's, and a redacted shop has no report to serve.
fn delete_shop_rows(conn: &mut DbConnection, shop_id: &str) -> QueryResult<()> {
    // Children before their members (no reliance on ON DELETE CASCADE); entry rewards before
    // the redemptions they point at.
    delete_in_chunks!(conn, webhook_attempts, shop_id);
    delete_in_chunks!(conn, webhook_messages, shop_id);
    delete_in_chunks!(conn, webhook_subscriptions, shop_id);
    delete_in_chunks!(conn, entry_rewards, shop_id);
    delete_in_chunks!(conn, redemptions, shop_id);
    delete_in_chunks!(conn, emails, shop_id);
    delete_in_chunks!(conn, nps_responses, shop_id);
    delete_in_chunks!(conn, nps_surveys, shop_id);
    delete_in_chunks!(conn, email_suppressions, shop_id, email);
    delete_in_chunks!(conn, referral_clicks, shop_id);
    delete_in_chunks!(conn, referral_claims, shop_id);
    delete_in_chunks!(conn, referrals, shop_id);
    delete_in_chunks!(conn, affiliate_orders, shop_id, platform_order_id);
    delete_in_chunks!(conn, fulfilments, shop_id);
    delete_in_chunks!(conn, point_reminders, shop_id);
    delete_in_chunks!(conn, ledger_entries, shop_id);
    delete_in_chunks!(conn, tier_events, shop_id);
    delete_in_chunks!(conn, tier_grants, shop_id);
    delete_in_chunks!(conn, tier_activity, shop_id, source);
    delete_in_chunks!(conn, win_back_entries, shop_id);
    // The roll-ups kept back name members and orders: gone before them.
    delete_in_chunks!(conn, rollup_backlog, shop_id);
    delete_in_chunks!(conn, product_purchases, shop_id, platform_order_id);
    delete_in_chunks!(conn, customer_facts, shop_id, member_id);
    delete_in_chunks!(conn, metric_orders, shop_id, order_id);
    delete_in_chunks!(conn, metric_spells, shop_id, customer_id);
    // A few thousand rows at most (one per day with orders or points).
    diesel::delete(metric_days::table.filter(metric_days::shop_id.eq(shop_id))).execute(conn)?;
    diesel::delete(metric_engagement::table.filter(metric_engagement::shop_id.eq(shop_id)))
        .execute(conn)?;
    diesel::delete(metric_day_changes::table.filter(metric_day_changes::shop_id.eq(shop_id)))
        .execute(conn)?;
    delete_in_chunks!(conn, refunds, shop_id);
    delete_in_chunks!(conn, orders, shop_id);
    // Guests merged into accounts point at them: unlink them all before deleting any member.
    in_chunks(
        conn,
        |c| {
            members::table
                .filter(members::shop_id.eq(shop_id))
                .filter(members::merged_into.is_not_null())
                .limit(CHUNK)
                .select(members::id)
                .load(c)
        },
        |c, ids| {
            diesel::update(members::table.filter(members::id.eq_any(ids)))
                .set(members::merged_into.eq(None::<String>))
                .execute(c)
        },
    )?;
    delete_in_chunks!(conn, members, shop_id);
    // Catalogue data, no one's personal data; one row per product and collection. Affiliates
    // (the owner's partners, a handful) go with them.
    write_transaction(conn, |c| {
        diesel::delete(product_collections::table.filter(product_collections::shop_id.eq(shop_id)))
            .execute(c)?;
        diesel::delete(affiliates::table.filter(affiliates::shop_id.eq(shop_id))).execute(c)
    })?;
    Ok(())
}

/// After `shop/redact`: erases every stored body of the shop, whatever its status or age, and
/// the customer and order ids kept beside it.
fn erase_all_bodies(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    in_chunks(
        conn,
        |c| {
            inbox_events::table
                .filter(inbox_events::shop_id.eq(shop_id))
                .filter(inbox_events::body_erased_at.is_null())
                .limit(CHUNK)
                .select(inbox_events::id)
                .load(c)
        },
        |c, ids| {
            diesel::update(
                inbox_events::table
                    .filter(inbox_events::shop_id.eq(shop_id))
                    .filter(inbox_events::id.eq_any(ids)),
            )
            .set((
                inbox_events::payload.eq(ERASED_BODY),
                inbox_events::body_erased_at.eq(Some(now)),
                inbox_events::customer_id.eq(None::<String>),
                inbox_events::order_id.eq(None::<String>),
            ))
            .execute(c)
        },
    )
}

/// Deletes the shop's done and dismissed job rows last updated before `before`. Failed ones
/// stay: they wait for the owner (`/app/jobs`) or the operator (`boomerang jobs failed`).
fn prune_jobs(conn: &mut DbConnection, shop_id: &str, before: NaiveDateTime) -> QueryResult<usize> {
    let finished = [JobStatus::Done.as_str(), JobStatus::Dismissed.as_str()];
    in_chunks(
        conn,
        |c| {
            jobs::table
                .filter(jobs::shop_id.eq(shop_id))
                .filter(jobs::status.eq_any(finished))
                .filter(jobs::updated_at.lt(before))
                .limit(CHUNK)
                .select(jobs::id)
                .load(c)
        },
        |c, ids| {
            diesel::delete(
                jobs::table
                    .filter(jobs::id.eq_any(ids))
                    .filter(jobs::status.eq_any(finished)),
            )
            .execute(c)
        },
    )
}
