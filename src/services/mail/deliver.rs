//! The `deliver_emails` job: sends a shop's due mail, a batch at a time.
//!
//! Each row is leased (`sending`, 5 minutes) with a compare-and-set before anything is sent, so
//! two instances never send one row; the policy then sends it, puts it off to the end of quiet
//! hours, holds it for the weekly digest, or drops it (suppressed, sunset). A transient failure
//! (the server is down or says "try later") retries with backoff; a permanent one (the server
//! refused the address) ends `failed`. Nothing is deleted: the log shows every outcome.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::email::is_suppressed;
use crate::db::models::{Email, Member, Shop};
use crate::db::schema::{emails, orders};
use crate::db::{new_id, now, DbConnection};
use crate::domain::calendar;
use crate::domain::mail::{decide, Decision, History, Kind};
use crate::domain::widget::Locale;
use crate::mail::dkim::Signer;
use crate::mail::render::{render, Rendered};
use crate::mail::transport::{Mailer, SendError};
use crate::queue::{Job, JobError};
use crate::services::program::Program;

use super::queue::wake_deliverer;
use super::{context, status};

/// The shop's DKIM signer, if it signs; or why its key does not open.
type Signing = Result<Option<Signer>, String>;

/// Rows sent per claim; the job claims again until nothing is due.
const BATCH: i64 = 50;
/// How long a claimed row is reserved for the job that claimed it.
const LEASE: Duration = Duration::minutes(5);
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
    loop {
        let batch = claim(conn, &shop.id, now())?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            deliver_one(conn, runtime, setup, keys, &shop, &program, &signer, row)?;
        }
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

fn set_status(
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

#[expect(
    clippy::too_many_arguments,
    reason = "one message meets the shop, its program, the transport and the keys"
)]
fn deliver_one(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    setup: &MailSetup,
    keys: &Keys,
    shop: &Shop,
    program: &Program,
    signer: &Signing,
    row: Email,
) -> Result<(), JobError> {
    let at = now();
    let Some(kind) = Kind::parse(&row.kind) else {
        set_status(
            conn,
            &row,
            status::FAILED,
            Some(format!("unknown kind {:?}", row.kind)),
            None,
        )?;
        return Ok(());
    };
    let member = Member::find(conn, &shop.id, &row.member_id)?;
    let Some(address) = member
        .email
        .clone()
        .filter(|_| member.redacted_at.is_none())
    else {
        set_status(
            conn,
            &row,
            status::SUPPRESSED,
            Some("the customer has no e-mail address".into()),
            None,
        )?;
        return Ok(());
    };
    if kind.is_marketing() && is_suppressed(conn, &shop.id, &address)? {
        set_status(
            conn,
            &row,
            status::SUPPRESSED,
            Some("the address is on the shop's suppression list".into()),
            None,
        )?;
        return Ok(());
    }
    let history = history(conn, &member, at)?;
    let zone = calendar::zone(&shop.timezone);
    let policy = &program.emails.policy;
    match decide(
        kind,
        policy,
        program.emails.open_tracking,
        zone,
        at,
        &history,
    ) {
        Decision::Sunset => {
            let why = format!(
                "not sent: {} marketing e-mails in a row were not opened",
                history.unopened_in_a_row
            );
            set_status(conn, &row, status::SUPPRESSED, Some(why), None)?;
            Ok(())
        }
        Decision::WaitUntil(until) => {
            set_status(conn, &row, status::QUEUED, None, Some(until))?;
            Ok(())
        }
        Decision::Cap { digest_at } => {
            set_status(conn, &row, status::CAPPED, None, None)?;
            queue_digest(conn, shop, &member, &row.locale, digest_at)?;
            Ok(())
        }
        Decision::Send => send(
            conn, runtime, setup, keys, shop, program, signer, &member, &address, row, kind,
        ),
    }
}

/// The customer's recent marketing mail: sent in the last 7 days, and unopened in a row since
/// they last opened one or ordered.
fn history(conn: &mut DbConnection, member: &Member, at: NaiveDateTime) -> QueryResult<History> {
    let marketing: Vec<&str> = Kind::ALL
        .iter()
        .filter(|k| k.is_marketing())
        .map(|k| k.as_str())
        .collect();
    let week_ago = at - Duration::days(7);
    let sent: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = emails::table
        .filter(emails::shop_id.eq(&member.shop_id))
        .filter(emails::member_id.eq(&member.id))
        .filter(emails::status.eq(status::SENT))
        .filter(emails::kind.eq_any(&marketing))
        .filter(emails::sent_at.is_not_null())
        .order(emails::sent_at.desc())
        .limit(200)
        .select((emails::sent_at.assume_not_null(), emails::opened_at))
        .load(conn)?;
    let in_week: Vec<NaiveDateTime> = sent
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s > week_ago)
        .collect();
    let last_order: Option<NaiveDateTime> = orders::table
        .filter(orders::shop_id.eq(&member.shop_id))
        .filter(orders::member_id.eq(&member.id))
        .select(diesel::dsl::max(orders::placed_at))
        .first(conn)?;
    let mut unopened = 0;
    for (sent_at, opened) in &sent {
        if opened.is_some() || last_order.is_some_and(|o| o >= *sent_at) {
            break;
        }
        unopened += 1;
    }
    Ok(History {
        sent_last_week: u32::try_from(in_week.len()).unwrap_or(u32::MAX),
        oldest_in_week: in_week.iter().min().copied(),
        unopened_in_a_row: unopened,
    })
}

/// The digest that will carry what the cap held: one per member and day it may go.
fn queue_digest(
    conn: &mut DbConnection,
    shop: &Shop,
    member: &Member,
    locale: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let row = Email {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        kind: Kind::Digest.as_str().to_owned(),
        occasion: format!("digest:{}", at.format("%Y-%m-%d")),
        locale: locale.to_owned(),
        context: "{}".into(),
        to_address: None,
        subject: None,
        text_body: None,
        html_body: None,
        status: status::QUEUED.to_owned(),
        variant: None,
        send_after: at,
        attempts: 0,
        lease_until: None,
        digest_id: None,
        error: None,
        sent_at: None,
        opened_at: None,
        created_at: now(),
        updated_at: now(),
    };
    if row.insert_once(conn)? {
        wake_deliverer(conn, &shop.id, at)?;
    }
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one message meets the shop, its program, the transport and the keys"
)]
fn send(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    setup: &MailSetup,
    keys: &Keys,
    shop: &Shop,
    program: &Program,
    signer: &Signing,
    member: &Member,
    address: &str,
    row: Email,
    kind: Kind,
) -> Result<(), JobError> {
    let mut ctx = context::build(
        conn,
        shop,
        program,
        member,
        &row,
        kind,
        keys,
        &setup.public_url,
    )?;
    let locale = Locale::from_tag(&row.locale).unwrap_or(Locale::En);
    let brand = context::brand(shop, program, &setup.public_url);
    // A digest tells what the cap held back: their subjects, one line each.
    let merged: Vec<Email> = if kind == Kind::Digest {
        let held = capped(conn, member)?;
        for h in &held {
            let Some(held_kind) = Kind::parse(&h.kind) else {
                continue;
            };
            let held_ctx = context::build(
                conn,
                shop,
                program,
                member,
                h,
                held_kind,
                keys,
                &setup.public_url,
            )?;
            if let Ok(r) = render(
                held_kind,
                locale,
                &brand,
                &held_ctx,
                program.emails.template(held_kind, &h.locale),
            ) {
                ctx.digest.push(r.subject);
            }
        }
        if held.is_empty() {
            set_status(
                conn,
                &row,
                status::MERGED,
                Some("nothing was left to tell".into()),
                None,
            )?;
            return Ok(());
        }
        held
    } else {
        Vec::new()
    };
    let over = program.emails.template(kind, locale.as_str());
    // An owner's template was checked when saved; should it still fail, the built-in one goes.
    let rendered = match render(kind, locale, &brand, &ctx, over) {
        Ok(r) => r,
        Err(first) if over.is_some() => match render(kind, locale, &brand, &ctx, None) {
            Ok(r) => {
                tracing::warn!(error = %first, kind = kind.as_str(), "owner template failed; sent the built-in one");
                r
            }
            Err(e) => return fail(conn, &row, &e.to_string()),
        },
        Err(e) => return fail(conn, &row, &e.to_string()),
    };
    let mut message = match build_message(
        setup,
        program,
        address,
        member,
        &row,
        &rendered,
        ctx.unsubscribe_url.as_deref(),
    ) {
        Ok(m) => m,
        Err(e) => return fail(conn, &row, &e),
    };
    let sent = match signer {
        Ok(signer) => {
            if let Some(signer) = signer {
                signer.sign(&mut message);
            }
            runtime.block_on(setup.mailer.send(&message))
        }
        Err(why) => Err(SendError {
            transient: true,
            message: why.clone(),
        }),
    };
    match sent {
        Ok(()) => {
            let at = now();
            diesel::update(
                emails::table
                    .filter(emails::shop_id.eq(&row.shop_id))
                    .filter(emails::id.eq(&row.id)),
            )
            .set((
                emails::status.eq(status::SENT),
                emails::to_address.eq(Some(address)),
                emails::subject.eq(Some(&rendered.subject)),
                emails::text_body.eq(Some(&rendered.text)),
                emails::html_body.eq(Some(&rendered.html)),
                emails::sent_at.eq(Some(at)),
                emails::attempts.eq(row.attempts + 1),
                emails::lease_until.eq(None::<NaiveDateTime>),
                emails::error.eq(None::<String>),
                emails::updated_at.eq(at),
            ))
            .execute(conn)?;
            for h in merged {
                diesel::update(
                    emails::table
                        .filter(emails::shop_id.eq(&h.shop_id))
                        .filter(emails::id.eq(&h.id)),
                )
                .set((
                    emails::status.eq(status::MERGED),
                    emails::digest_id.eq(Some(&row.id)),
                    emails::updated_at.eq(at),
                ))
                .execute(conn)?;
            }
            Ok(())
        }
        Err(e) if e.transient && row.attempts + 1 < MAX_ATTEMPTS => {
            let attempts = row.attempts + 1;
            let retry_at = now() + crate::queue::backoff(attempts);
            diesel::update(
                emails::table
                    .filter(emails::shop_id.eq(&row.shop_id))
                    .filter(emails::id.eq(&row.id)),
            )
            .set((
                emails::status.eq(status::QUEUED),
                emails::attempts.eq(attempts),
                emails::send_after.eq(retry_at),
                emails::lease_until.eq(None::<NaiveDateTime>),
                emails::error.eq(Some(e.message.clone())),
                emails::updated_at.eq(now()),
            ))
            .execute(conn)?;
            tracing::warn!(error = %e.message, attempts, "e-mail not sent; retrying later");
            Ok(())
        }
        Err(e) => fail(conn, &row, &e.message),
    }
}

fn fail(conn: &mut DbConnection, row: &Email, why: &str) -> Result<(), JobError> {
    tracing::warn!(error = %why, email = %row.id, "e-mail failed");
    set_status(conn, row, status::FAILED, Some(why.to_owned()), None)?;
    Ok(())
}

/// The member's messages the cap held back.
fn capped(conn: &mut DbConnection, member: &Member) -> QueryResult<Vec<Email>> {
    emails::table
        .filter(emails::shop_id.eq(&member.shop_id))
        .filter(emails::member_id.eq(&member.id))
        .filter(emails::status.eq(status::CAPPED))
        .order(emails::created_at.asc())
        .select(Email::as_select())
        .load(conn)
}

fn build_message(
    setup: &MailSetup,
    program: &Program,
    address: &str,
    member: &Member,
    row: &Email,
    rendered: &Rendered,
    unsubscribe: Option<&str>,
) -> Result<lettre::Message, String> {
    use lettre::message::Mailbox;
    let from = program
        .emails
        .from
        .as_deref()
        .and_then(|f| f.parse::<Mailbox>().ok())
        .unwrap_or_else(|| setup.default_from.clone());
    let reply_to = program
        .emails
        .reply_to
        .as_deref()
        .and_then(|r| r.parse::<Mailbox>().ok());
    let email = address
        .parse()
        .map_err(|e| format!("{address:?} is not an address: {e}"))?;
    let to = Mailbox::new(member.first_name.clone(), email);
    let host = url::Url::parse(&setup.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let message_id = format!("{}@{host}", row.id);
    crate::mail::message::build(
        &from,
        reply_to.as_ref(),
        &to,
        rendered,
        &message_id,
        unsubscribe,
    )
    .map_err(|e| e.to_string())
}
