//! Queuing a message, in the caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::email::{is_suppressed, suppressed_among};
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
    match Queued::new(shop, program, member, kind, occasion, context, variant, now) {
        Some(message) => message.write(conn),
        None => Ok(false),
    }
}

/// As [`queue`], for a caller that needs no answer (the points-earned mail of an order): in an
/// applier batch the message is written with the batch's others when the batch ends (one read
/// of the suppression list and one insert for all of them), at once outside one.
#[expect(clippy::too_many_arguments, reason = "as `queue`")]
pub fn queue_deferred(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    kind: Kind,
    occasion: &str,
    context: serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(message) = prepare(shop, program, member, kind, occasion, context, now) else {
        return Ok(());
    };
    if let Some(message) = crate::services::batch::defer_email(message) {
        message.write(conn)?;
    }
    Ok(())
}

/// The message `kind` for `member` about `occasion`, made but not written (the NPS survey, which
/// an applier batch writes with its survey row when it ends); `None` when [`queue`] would
/// write nothing.
pub fn prepare(
    shop: &Shop,
    program: &Program,
    member: &Member,
    kind: Kind,
    occasion: &str,
    context: serde_json::Value,
    now: NaiveDateTime,
) -> Option<Queued> {
    Queued::new(shop, program, member, kind, occasion, context, None, now)
}

/// A message made for a member and not written yet (kept as JSON in a backlog row while an
/// applier batch works through a backlog, `services::retention::backlog`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Queued {
    row: Email,
    /// The address, when it is to be checked against the suppression list (marketing mail).
    check_suppression: Option<String>,
}

impl Queued {
    /// The message, unless the shop switched the kind off or the member has no address (or is
    /// erased or merged).
    #[expect(clippy::too_many_arguments, reason = "as `queue_variant`")]
    fn new(
        shop: &Shop,
        program: &Program,
        member: &Member,
        kind: Kind,
        occasion: &str,
        context: serde_json::Value,
        variant: Option<&str>,
        now: NaiveDateTime,
    ) -> Option<Self> {
        if !program.emails.is_enabled(kind)
            || member.redacted_at.is_some()
            || member.merged_into.is_some()
        {
            return None;
        }
        let address = member.email.as_deref()?;
        let locale = Locale::negotiate(member.locale.as_deref(), program.widget.default_locale);
        let row = Email {
            context: context.to_string(),
            variant: variant.map(str::to_owned),
            ..blank(&shop.id, &member.id, kind, occasion, locale.as_str(), now)
        };
        Some(Self {
            row,
            check_suppression: kind.is_marketing().then(|| address.to_owned()),
        })
    }

    /// The row's id.
    pub(crate) fn id(&self) -> &str {
        &self.row.id
    }

    pub(crate) fn shop_id(&self) -> &str {
        &self.row.shop_id
    }

    pub(crate) fn member_id(&self) -> &str {
        &self.row.member_id
    }

    /// The one row per (shop, member, kind, occasion).
    pub(crate) fn occasion_key(&self) -> (String, String, String, String) {
        let r = &self.row;
        (
            r.shop_id.clone(),
            r.member_id.clone(),
            r.kind.clone(),
            r.occasion.clone(),
        )
    }

    /// Recorded as suppressed (the log shows why nothing went).
    fn suppressed(self) -> Email {
        Email {
            status: status::SUPPRESSED.to_owned(),
            error: Some("the address is on the shop's suppression list".to_owned()),
            ..self.row
        }
    }

    /// Writes it now; returns whether a row was added.
    pub(crate) fn write(self, conn: &mut DbConnection) -> QueryResult<bool> {
        let suppressed = match &self.check_suppression {
            Some(address) => is_suppressed(conn, &self.row.shop_id, address)?,
            None => false,
        };
        let (shop_id, at) = (self.row.shop_id.clone(), self.row.send_after);
        let row = if suppressed {
            self.suppressed()
        } else {
            self.row
        };
        let added = row.insert_once(conn)?;
        if added && !suppressed {
            wake_deliverer(conn, &shop_id, at)?;
        }
        Ok(added)
    }
}

/// Writes messages an applier batch queued, as [`Queued::write`] would one by one: per shop,
/// one read of the suppression list for all their addresses and one insert of the messages to
/// send (the deliverer woken if any was new), one of the suppressed ones. The batch holds one
/// message per member, kind and occasion. Returns the ids of the rows added (a message whose
/// occasion already had one adds none).
pub fn write_queued(
    conn: &mut DbConnection,
    messages: Vec<Queued>,
) -> QueryResult<std::collections::HashSet<String>> {
    let mut added = std::collections::HashSet::with_capacity(messages.len());
    let mut by_shop: std::collections::BTreeMap<String, Vec<Queued>> = Default::default();
    for message in messages {
        by_shop
            .entry(message.row.shop_id.clone())
            .or_default()
            .push(message);
    }
    for (shop_id, messages) in by_shop {
        let addresses: Vec<&str> = messages
            .iter()
            .filter_map(|m| m.check_suppression.as_deref())
            .collect();
        let listed = if addresses.is_empty() {
            Default::default()
        } else {
            suppressed_among(conn, &shop_id, &addresses)?
        };
        let at = messages.iter().map(|m| m.row.send_after).min();
        let (suppressed, to_send): (Vec<Queued>, Vec<Queued>) =
            messages.into_iter().partition(|m| {
                m.check_suppression
                    .as_ref()
                    .is_some_and(|a| listed.contains(a))
            });
        let to_send: Vec<Email> = to_send.into_iter().map(|m| m.row).collect();
        let suppressed: Vec<Email> = suppressed.into_iter().map(Queued::suppressed).collect();
        let sent = Email::insert_all_once(conn, &to_send)?;
        if !sent.is_empty() {
            if let Some(at) = at {
                wake_deliverer(conn, &shop_id, at)?;
            }
        }
        added.extend(sent);
        added.extend(Email::insert_all_once(conn, &suppressed)?);
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
        status: status::HELD_OUT.to_owned(),
        error: Some("the customer is in the win-back hold-out".to_owned()),
        ..blank(&shop.id, &member.id, kind, occasion, locale.as_str(), now)
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
    match member.map(|r| r.member) {
        Some(member) => queue(conn, shop, program, &member, kind, occasion, context, now),
        None => Ok(false),
    }
}

/// A queued message of `kind` about `occasion`, made at `now` to be sent from then, with no
/// facts (`context` `{}`) and nothing rendered or sent yet; callers set what differs.
pub(crate) fn blank(
    shop_id: &str,
    member_id: &str,
    kind: Kind,
    occasion: &str,
    locale: &str,
    now: NaiveDateTime,
) -> Email {
    Email {
        id: new_id(),
        shop_id: shop_id.to_owned(),
        member_id: member_id.to_owned(),
        kind: kind.as_str().to_owned(),
        occasion: occasion.to_owned(),
        locale: locale.to_owned(),
        context: "{}".to_owned(),
        to_address: None,
        subject: None,
        text_body: None,
        html_body: None,
        status: status::QUEUED.to_owned(),
        variant: None,
        send_after: now,
        attempts: 0,
        lease_until: None,
        digest_id: None,
        error: None,
        sent_at: None,
        opened_at: None,
        created_at: now,
        updated_at: now,
        body_erased_at: None,
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
