//! The `deliver_emails` job: sends a shop's due mail, a batch at a time, the batch's messages
//! concurrently.
//!
//! Each row is leased (`sending`) with a compare-and-set before anything is sent, so two
//! instances never send one row; the policy then sends it, puts it off to the end of quiet
//! hours, holds it for the weekly digest, or drops it (suppressed, sunset) — see `prepare`.
//! The messages to send go to the transport together: it keeps `SMTP_MAX_IN_FLIGHT` of them in
//! flight over pooled connections, which is what makes the outbox drain at hundreds per second
//! instead of the ~22 one connection manages. Their outcomes are recorded in one write
//! transaction. A transient failure (the server is down or says "try later") retries with
//! backoff; a permanent one (the server refused the address) ends `failed`. Nothing is
//! deleted: the log shows every outcome.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::{Email, Shop};
use crate::db::schema::emails;
use crate::db::{now, write_transaction, DbConnection};
use crate::mail::dkim::Signer;
use crate::mail::transport::{Mailer, SendError};
use crate::queue::{Job, JobError};
use crate::services::program::Program;

use super::prepare::{Batch, Outgoing};
use super::queue::wake_deliverer;
use super::status;

/// Rows claimed at once; their sends run concurrently. The job claims again until nothing is due.
const BATCH: i64 = 64;
/// How long one send may take, connecting included, before it counts as a transient failure.
/// lettre's own timeout bounds each exchange, not the whole send.
const SEND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);
/// How long a claimed row is reserved for the job that claimed it: longer than a whole batch can
/// take (`BATCH` / `SMTP_MAX_IN_FLIGHT` rounds of at most `SEND_DEADLINE`), so a slow relay never
/// lets a second job claim rows still being sent.
const LEASE: Duration = Duration::minutes(15);
/// Transient failures before a message is given up as `failed`.
const MAX_ATTEMPTS: i32 = 10;

/// What sending needs besides the database.
#[derive(Clone, Debug)]
pub struct MailSetup {
    pub mailer: Arc<Mailer>,
    /// `MAIL_FROM`, for shops that set no sender of their own.
    pub default_from: lettre::message::Mailbox,
    /// `PUBLIC_URL`: links in messages, and the right-hand side of their `Message-ID`s.
    pub public_url: String,
}

/// Runs the job for `job.shop_id`.
pub fn deliver_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    setup: &MailSetup,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let shop = Shop::find(conn, &job.shop_id)?;
    let program = Program::of(&shop);
    // Once per run: a shop that asked for DKIM and whose key does not open sends nothing
    // unsigned; each message then fails transiently, with the reason in the log, and retries.
    let signer = super::dkim::signer_for(keys, &shop).map_err(|e| e.to_string());
    let mut batch = Batch {
        setup,
        keys,
        shop: &shop,
        program: &program,
        readied: HashMap::new(),
    };
    // While one batch is with the relay, the next is claimed and readied: the database work
    // and the sending overlap instead of taking turns.
    let mut in_flight: Option<(Vec<Outgoing>, Sending)> = None;
    loop {
        let readied = write_transaction(conn, |c| claim(c, &shop.id, now()))
            .map_err(JobError::from)
            .and_then(|claimed| {
                let drained = claimed.is_empty();
                let mut outgoing = Vec::new();
                for row in claimed {
                    outgoing.extend(batch.prepare(conn, row)?);
                }
                Ok((drained, outgoing))
            });
        let (drained, mut outgoing) = match readied {
            Ok(readied) => readied,
            Err(e) => {
                // What is with the relay is recorded first, or it would go again once its
                // lease lapsed.
                if let Some((sent, results)) = in_flight.take() {
                    finish(conn, runtime, &mut batch, sent, results)?;
                }
                return Err(e);
            }
        };
        let sending = start_sending(runtime, &setup.mailer, &signer, &mut outgoing);
        if let Some((sent, results)) = in_flight.take() {
            finish(conn, runtime, &mut batch, sent, results)?;
        }
        if drained {
            break;
        }
        in_flight = Some((outgoing, sending));
    }
    // Put off rows (quiet hours, backoff, digests) wake a job of their own.
    let next: Option<NaiveDateTime> = emails::table
        .filter(emails::shop_id.eq(&shop.id))
        .filter(emails::status.eq(status::QUEUED))
        .select(diesel::dsl::min(emails::send_after))
        .first(conn)?;
    if let Some(at) = next {
        wake_deliverer(conn, &shop.id, at.max(now()))?;
    }
    Ok(())
}

/// The sends of one batch, running on the runtime: one result per message, in order.
type Sending = tokio::task::JoinHandle<Vec<Result<(), SendError>>>;

/// Signs the batch's messages and hands them all to the transport at once (it bounds how many
/// are in flight); does not wait for them.
fn start_sending(
    runtime: &tokio::runtime::Handle,
    mailer: &Arc<Mailer>,
    signer: &Result<Option<Signer>, String>,
    outgoing: &mut [Outgoing],
) -> Sending {
    let messages: Result<Vec<lettre::Message>, String> = match signer {
        Ok(signer) => Ok(outgoing
            .iter_mut()
            .map(|out| {
                if let Some(signer) = signer {
                    signer.sign(&mut out.message);
                }
                out.message.clone()
            })
            .collect()),
        // A shop that asked for DKIM and whose key does not open sends nothing unsigned.
        Err(why) => Err(why.clone()),
    };
    let count = outgoing.len();
    let mailer = Arc::clone(mailer);
    runtime.spawn(async move {
        let messages = match messages {
            Ok(messages) => messages,
            Err(why) => {
                let refused = SendError {
                    transient: true,
                    message: why,
                };
                return vec![Err(refused); count];
            }
        };
        let sends = messages.iter().map(|message| async {
            match tokio::time::timeout(SEND_DEADLINE, mailer.send(message)).await {
                Ok(result) => result,
                Err(_) => Err(SendError {
                    transient: true,
                    message: format!(
                        "the relay did not take the message within {} s",
                        SEND_DEADLINE.as_secs()
                    ),
                }),
            }
        });
        futures_util::future::join_all(sends).await
    })
}

/// Waits for a batch's sends and records their outcomes in one write transaction.
fn finish(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    batch: &mut Batch<'_>,
    outgoing: Vec<Outgoing>,
    sending: Sending,
) -> Result<(), JobError> {
    let results = runtime.block_on(sending).unwrap_or_else(|e| {
        // The task panicked or was cancelled: nothing is known to have been sent... except
        // what may have been; the rows stay leased and go again when the lease lapses.
        let why = format!("the sending task ended: {e}");
        vec![
            Err(SendError {
                transient: true,
                message: why,
            });
            outgoing.len()
        ]
    });
    write_transaction(conn, |c| -> QueryResult<()> {
        for (out, result) in outgoing.iter().zip(results) {
            record(c, out, result)?;
        }
        Ok(())
    })?;
    for out in &outgoing {
        batch.recorded(&out.row);
    }
    Ok(())
}

/// Whether the shop has mail due now that no job may be looking after.
pub fn has_due_mail(
    conn: &mut DbConnection,
    shop_id: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let due: i64 = emails::table
        .filter(emails::shop_id.eq(shop_id))
        .filter(emails::status.eq(status::QUEUED))
        .filter(emails::send_after.le(at))
        .count()
        .get_result(conn)?;
    Ok(due > 0)
}

/// Leases up to `BATCH` due rows: queued and due, or `sending` with a lapsed lease (a job
/// that died mid-send).
fn claim(conn: &mut DbConnection, shop_id: &str, at: NaiveDateTime) -> QueryResult<Vec<Email>> {
    let due = || {
        emails::status
            .eq(status::QUEUED)
            .and(emails::send_after.le(at))
            .or(emails::status
                .eq(status::SENDING)
                .and(emails::lease_until.lt(at)))
    };
    let ids: Vec<String> = emails::table
        .filter(emails::shop_id.eq(shop_id))
        .filter(due())
        .order(emails::send_after.asc())
        .limit(BATCH)
        .select(emails::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in ids {
        let moved = diesel::update(
            emails::table
                .filter(emails::shop_id.eq(shop_id))
                .filter(emails::id.eq(&id))
                .filter(due()),
        )
        .set((
            emails::status.eq(status::SENDING),
            emails::lease_until.eq(Some(at + LEASE)),
            emails::updated_at.eq(at),
        ))
        .execute(conn)?;
        if moved == 1 {
            claimed.push(Email::find(conn, shop_id, &id)?);
        }
    }
    Ok(claimed)
}

pub(super) fn set_status(
    conn: &mut DbConnection,
    row: &Email,
    to: &str,
    error: Option<String>,
    send_after: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(
        emails::table
            .filter(emails::shop_id.eq(&row.shop_id))
            .filter(emails::id.eq(&row.id)),
    )
    .set((
        emails::status.eq(to),
        emails::error.eq(error),
        emails::send_after.eq(send_after.unwrap_or(row.send_after)),
        emails::lease_until.eq(None::<NaiveDateTime>),
        emails::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Records what the transport said of one message.
fn record(
    conn: &mut DbConnection,
    out: &Outgoing,
    result: Result<(), SendError>,
) -> QueryResult<()> {
    let row = &out.row;
    let this = emails::table
        .filter(emails::shop_id.eq(&row.shop_id))
        .filter(emails::id.eq(&row.id));
    let at = now();
    match result {
        Ok(()) => {
            diesel::update(this)
                .set((
                    emails::status.eq(status::SENT),
                    emails::to_address.eq(Some(&out.address)),
                    emails::subject.eq(Some(&out.rendered.subject)),
                    emails::text_body.eq(Some(&out.rendered.text)),
                    emails::html_body.eq(Some(&out.rendered.html)),
                    emails::sent_at.eq(Some(at)),
                    emails::attempts.eq(row.attempts + 1),
                    emails::lease_until.eq(None::<NaiveDateTime>),
                    emails::error.eq(None::<String>),
                    emails::updated_at.eq(at),
                ))
                .execute(conn)?;
            let merged: Vec<&str> = out.merged.iter().map(|h| h.id.as_str()).collect();
            if !merged.is_empty() {
                diesel::update(
                    emails::table
                        .filter(emails::shop_id.eq(&row.shop_id))
                        .filter(emails::id.eq_any(&merged)),
                )
                .set((
                    emails::status.eq(status::MERGED),
                    emails::digest_id.eq(Some(&row.id)),
                    emails::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
        }
        Err(e) if e.transient && row.attempts + 1 < MAX_ATTEMPTS => {
            let attempts = row.attempts + 1;
            diesel::update(this)
                .set((
                    emails::status.eq(status::QUEUED),
                    emails::attempts.eq(attempts),
                    emails::send_after.eq(at + crate::queue::backoff(attempts)),
                    emails::lease_until.eq(None::<NaiveDateTime>),
                    emails::error.eq(Some(e.message.clone())),
                    emails::updated_at.eq(at),
                ))
                .execute(conn)?;
            tracing::warn!(error = %e.message, attempts, "e-mail not sent; retrying later");
        }
        Err(e) => {
            tracing::warn!(error = %e.message, email = %row.id, "e-mail failed");
            set_status(conn, row, status::FAILED, Some(e.message), None)?;
        }
    }
    Ok(())
}
