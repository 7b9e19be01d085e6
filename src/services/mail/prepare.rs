//! Readying one leased message: the sending policy decides (send, wait for the end of quiet
//! hours, hold for the digest, drop), and a message to send is rendered in the customer's
//! language and built. Outcomes other than "send" are recorded here at once; a message to send
//! goes back to the job, which sends a whole batch concurrently and records the results.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::email::is_suppressed;
use crate::db::models::{Email, Member, Shop};
use crate::db::schema::{emails, orders};
use crate::db::{now, DbConnection};
use crate::domain::calendar;
use crate::domain::mail::{decide, Decision, History, Kind};
use crate::domain::widget::Locale;
use crate::mail::render::{render, Rendered};
use crate::queue::JobError;
use crate::services::program::Program;

use super::deliver::{set_status, MailSetup};
use super::queue::wake_deliverer;
use super::{context, status};

/// A message rendered, built and ready for the transport.
pub(super) struct Outgoing {
    pub row: Email,
    pub address: String,
    pub rendered: Rendered,
    pub message: lettre::Message,
    /// Messages the cap held that this digest tells of: `merged` once it is sent.
    pub merged: Vec<Email>,
}

/// What one job run shares while readying its messages.
pub(super) struct Batch<'a> {
    pub setup: &'a MailSetup,
    pub keys: &'a Keys,
    pub shop: &'a Shop,
    pub program: &'a Program,
    /// Marketing messages readied for each member in this run but not recorded yet: the
    /// weekly cap counts them, or two messages readied before either is recorded as sent
    /// could both pass it.
    pub readied: HashMap<String, u32>,
}

impl Batch<'_> {
    /// `row`'s outcome is in the database now, where the cap sees it if it was sent.
    pub fn recorded(&mut self, row: &Email) {
        let marketing = Kind::parse(&row.kind).is_some_and(Kind::is_marketing);
        if let (true, Some(n)) = (marketing, self.readied.get_mut(&row.member_id)) {
            *n = n.saturating_sub(1);
        }
    }

    /// Applies the policy to `row`; `Some` when it is to be sent now.
    pub fn prepare(
        &mut self,
        conn: &mut DbConnection,
        row: Email,
    ) -> Result<Option<Outgoing>, JobError> {
        let at = now();
        let Some(kind) = Kind::parse(&row.kind) else {
            let why = format!("unknown kind {:?}", row.kind);
            set_status(conn, &row, status::FAILED, Some(why), None)?;
            return Ok(None);
        };
        let member = Member::find(conn, &self.shop.id, &row.member_id)?;
        let Some(address) = member
            .email
            .clone()
            .filter(|_| member.redacted_at.is_none())
        else {
            let why = "the customer has no e-mail address".to_owned();
            set_status(conn, &row, status::SUPPRESSED, Some(why), None)?;
            return Ok(None);
        };
        if kind.is_marketing() && is_suppressed(conn, &self.shop.id, &address)? {
            let why = "the address is on the shop's suppression list".to_owned();
            set_status(conn, &row, status::SUPPRESSED, Some(why), None)?;
            return Ok(None);
        }
        let mut history = history(conn, &member, at)?;
        if let Some(&readied) = self.readied.get(&member.id) {
            history.sent_last_week += readied;
            history.oldest_in_week = Some(history.oldest_in_week.map_or(at, |o| o.min(at)));
        }
        let emails = &self.program.emails;
        let zone = calendar::zone(&self.shop.timezone);
        match decide(
            kind,
            &emails.policy,
            emails.open_tracking,
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
                Ok(None)
            }
            Decision::WaitUntil(until) => {
                set_status(conn, &row, status::QUEUED, None, Some(until))?;
                Ok(None)
            }
            Decision::Cap { digest_at } => {
                set_status(conn, &row, status::CAPPED, None, None)?;
                queue_digest(conn, self.shop, &member, &row.locale, digest_at)?;
                Ok(None)
            }
            Decision::Send => {
                let outgoing = self.ready(conn, &member, address, row, kind)?;
                if outgoing.is_some() && kind.is_marketing() {
                    *self.readied.entry(member.id.clone()).or_default() += 1;
                }
                Ok(outgoing)
            }
        }
    }

    /// Renders and builds the message; a message that cannot be built is recorded `failed`.
    fn ready(
        &self,
        conn: &mut DbConnection,
        member: &Member,
        address: String,
        row: Email,
        kind: Kind,
    ) -> Result<Option<Outgoing>, JobError> {
        let (shop, program, setup) = (self.shop, self.program, self.setup);
        let mut ctx = context::build(
            conn,
            shop,
            program,
            member,
            &row,
            kind,
            self.keys,
            &setup.public_url,
        )?;
        let locale = Locale::from_tag(&row.locale).unwrap_or(Locale::En);
        let brand = context::brand(shop, program, &setup.public_url);
        // A digest tells what the cap held back, one line each: the subject and its preview
        // line, so the facts (the code, the date) are in the digest, not only a headline.
        let merged: Vec<Email> = if kind == Kind::Digest {
            let held = capped(conn, member)?;
            if held.is_empty() {
                let why = "nothing was left to tell".to_owned();
                set_status(conn, &row, status::MERGED, Some(why), None)?;
                return Ok(None);
            }
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
                    self.keys,
                    &setup.public_url,
                )?;
                let over = program.emails.template(held_kind, &h.locale);
                if let Ok(r) = render(held_kind, locale, &brand, &held_ctx, over) {
                    ctx.digest.push(digest_line(&r));
                }
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
        let rendered = with_variant_subject(rendered, program, &row, locale);
        let unsubscribe = ctx.unsubscribe_url.as_deref();
        match build_message(
            setup,
            program,
            &address,
            member,
            &row,
            &rendered,
            unsubscribe,
        ) {
            Ok(message) => Ok(Some(Outgoing {
                row,
                address,
                rendered,
                message,
                merged,
            })),
            Err(e) => fail(conn, &row, &e),
        }
    }
}

fn fail(conn: &mut DbConnection, row: &Email, why: &str) -> Result<Option<Outgoing>, JobError> {
    tracing::warn!(error = %why, email = %row.id, "e-mail failed");
    set_status(conn, row, status::FAILED, Some(why.to_owned()), None)?;
    Ok(None)
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
    let occasion = format!("digest:{}", at.format("%Y-%m-%d"));
    let row = Email {
        send_after: at,
        ..super::queue::blank(&shop.id, &member.id, Kind::Digest, &occasion, locale, now())
    };
    if row.insert_once(conn)? {
        wake_deliverer(conn, &shop.id, at)?;
    }
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

/// A win-back message assigned a subject variant goes out under that variant's subject (in the
/// customer's language, else English); a variant the owner removed since leaves the template's.
fn with_variant_subject(
    mut rendered: Rendered,
    program: &Program,
    row: &Email,
    locale: Locale,
) -> Rendered {
    let subject = row.variant.as_deref().and_then(|id| {
        let win_back = program.win_back.as_ref()?;
        let variant = win_back.subject_variants.iter().find(|v| v.id == id)?;
        variant.subject_in(locale)
    });
    if let Some(subject) = subject {
        rendered.subject = crate::mail::message::one_line(subject);
    }
    rendered
}

/// One held message as a digest line: its subject, and its preview line when it says more.
fn digest_line(rendered: &Rendered) -> String {
    let (subject, preheader) = (rendered.subject.trim(), rendered.preheader.trim());
    if preheader.is_empty() || preheader == subject {
        subject.to_owned()
    } else {
        format!("{subject} — {preheader}")
    }
}

#[cfg(test)]
mod tests {
    use super::digest_line;
    use crate::mail::render::Rendered;

    fn rendered(subject: &str, preheader: &str) -> Rendered {
        Rendered {
            subject: subject.into(),
            preheader: preheader.into(),
            text: String::new(),
            html: String::new(),
        }
    }

    #[test]
    fn a_digest_line_carries_the_held_messages_preview_when_it_adds_something() {
        assert_eq!(
            digest_line(&rendered("Your reward is ready", "Use code ABC by 1 Dec.")),
            "Your reward is ready — Use code ABC by 1 Dec."
        );
        assert_eq!(digest_line(&rendered("Hi", "")), "Hi");
        assert_eq!(digest_line(&rendered("Hi", " Hi ")), "Hi");
    }
}
