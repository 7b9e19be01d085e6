//! Queuing a message, in the caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::email::is_suppressed;
use crate::db::models::{Email, Member, Shop};
use crate::db::{new_id, DbConnection};
use crate::domain::mail::Kind;
use crate::domain::widget::Locale;
use crate::queue::{JobKind, JobSpec};
use crate::services::program::Program;

use super::status;

/// Queues `kind` for `member` about `occasion` with the occasion's facts (`context`, a JSON
/// object of `mail::render::MailContext` fields). Does nothing when the shop switched the kind
/// off or the member has no address; records a marketing message to a suppressed address as
/// `suppressed` (the log shows why nothing went). Returns whether a row was added.
#[expect(
    clippy::too_many_arguments,
    reason = "who, what about and when: each caller has all of them at hand"
)]
pub fn queue(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    kind: Kind,
    occasion: &str,
    context: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    queue_variant(
        conn, shop, program, member, kind, occasion, context, None, now,
    )
}

/// As [`queue`], recording the subject variant the message goes out with (a win-back step:
/// the deliverer puts that variant's subject on it).
#[expect(clippy::too_many_arguments, reason = "as `queue`, with the variant")]
pub fn queue_variant(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    kind: Kind,
    occasion: &str,
    context: serde_json::Value,
    variant: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if !program.emails.is_enabled(kind)
        || member.redacted_at.is_some()
        || member.merged_into.is_some()
    {
        return Ok(false);
    }
    let Some(address) = member.email.as_deref() else {
        return Ok(false);
    };
    let suppressed = kind.is_marketing() && is_suppressed(conn, &shop.id, address)?;
    let locale = Locale::negotiate(member.locale.as_deref(), program.widget.default_locale);
    let row = Email {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        kind: kind.as_str().to_owned(),
        occasion: occasion.to_owned(),
        locale: locale.as_str().to_owned(),
        context: context.to_string(),
        to_address: None,
        subject: None,
        text_body: None,
        html_body: None,
        status: if suppressed {
            status::SUPPRESSED
        } else {
            status::QUEUED
        }
        .to_owned(),
        variant: variant.map(str::to_owned),
        send_after: now,
        attempts: 0,
        lease_until: None,
        digest_id: None,
        error: suppressed.then(|| "the address is on the shop's suppression list".to_owned()),
        sent_at: None,
        opened_at: None,
        created_at: now,
        updated_at: now,
        body_erased_at: None,
    };
    let added = row.insert_once(conn)?;
    if added && !suppressed {
        wake_deliverer(conn, &shop.id, now)?;
    }
    Ok(added)
}

/// Records, without sending anything, the message a hold-out customer would have been sent:
/// the log shows `held_out`, and the occasion is spent, so it is never sent later.
pub fn record_held_out(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    kind: Kind,
    occasion: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let locale = Locale::negotiate(member.locale.as_deref(), program.widget.default_locale);
    Email {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        kind: kind.as_str().to_owned(),
        occasion: occasion.to_owned(),
        locale: locale.as_str().to_owned(),
        context: "{}".to_owned(),
        to_address: None,
        subject: None,
        text_body: None,
        html_body: None,
        status: status::HELD_OUT.to_owned(),
        variant: None,
        send_after: now,
        attempts: 0,
        lease_until: None,
        digest_id: None,
        error: Some("the customer is in the win-back hold-out".to_owned()),
        sent_at: None,
        opened_at: None,
        created_at: now,
        updated_at: now,
        body_erased_at: None,
    }
    .insert_once(conn)
}

/// Queues mail for someone who is not a member yet (a referred friend claiming their code):
/// they become a guest member by e-mail, as a guest order would make them.
#[expect(
    clippy::too_many_arguments,
    reason = "as `queue`, with an address in place of a member"
)]
pub fn queue_for_friend(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    email: &str,
    kind: Kind,
    occasion: &str,
    context: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let email = crate::domain::event::normalise_email(email);
    let member = crate::services::members::resolve(
        conn,
        &shop.id,
        None,
        email.as_deref(),
        crate::services::members::GuestClaim::Refused,
        None,
        now,
    )?;
    match member {
        Some(member) => queue(conn, shop, program, &member, kind, occasion, context, now),
        None => Ok(false),
    }
}

/// Asks for a deliver job at `at` (one per shop and second: a burst of events wakes it once).
/// The key must differ from the running job's own, or a job asking for its successor (rows put
/// off a few seconds) would be refused as a duplicate of itself.
pub(super) fn wake_deliverer(
    conn: &mut DbConnection,
    shop_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    crate::services::batch::wake(
        conn,
        JobSpec {
            shop_id: shop_id.to_owned(),
            kind: JobKind::DeliverEmails,
            payload: serde_json::json!({}),
            dedupe_key: Some(format!("deliver:{}", at.format("%Y-%m-%dT%H:%M:%S"))),
            run_at: at,
            max_attempts: 10,
        },
    )
}
