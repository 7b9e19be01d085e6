//! What an applier batch writes once, when it ends: the inbox rows' outcomes, the points mail
//! of its orders (or keeps it back with the roll-ups while a backlog is worked through) and the
//! deliverers' wake-up jobs.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;

use super::with_state;
use crate::db::models::{InboxEvent, NpsSurvey};
use crate::db::types::InboxStatus;
use crate::db::DbConnection;
use crate::queue::JobSpec;
use crate::services::mail::Queued;

/// Records an applied inbox row's outcome: in a batch, written with the others of its outcome
/// when the batch ends (or before an event that is not an order or a refund); at once
/// outside one.
pub fn mark_applied(
    conn: &mut DbConnection,
    shop_id: &str,
    event_id: &str,
    status: InboxStatus,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let deferred = with_state(|state| {
        state.map(|state| {
            state
                .outcomes
                .entry(status)
                .or_default()
                .push(event_id.to_owned());
        })
    });
    match deferred {
        Some(()) => Ok(()),
        None => InboxEvent::mark(conn, shop_id, event_id, status, None, at),
    }
}

pub(super) fn write_outcomes(conn: &mut DbConnection) -> QueryResult<()> {
    let outcomes = with_state(|s| {
        s.map(|s| std::mem::take(&mut s.outcomes))
            .unwrap_or_default()
    });
    let at = crate::db::now();
    for (status, ids) in outcomes {
        InboxEvent::mark_all(conn, &ids, status, at)?;
    }
    Ok(())
}

/// Asks for a deliverer's wake-up job: in a batch, the first asked for per shop and kind is
/// queued when the batch ends (its messages are committed with it, and the deliverer takes
/// everything due); at once outside one.
pub fn wake(conn: &mut DbConnection, spec: JobSpec) -> QueryResult<()> {
    let spec = with_state(|state| match state {
        Some(state) => {
            state
                .wakes
                .entry((spec.shop_id.clone(), spec.kind))
                .or_insert(spec);
            None
        }
        None => Some(spec),
    });
    if let Some(spec) = spec {
        crate::queue::enqueue(conn, spec)?;
    }
    Ok(())
}

/// Holds a message for the batch's end (`None`), or gives it back outside a batch to be
/// written now. Of messages for the same member, kind and occasion the first is kept, as the
/// first insert would be.
pub fn defer_email(message: Queued) -> Option<Queued> {
    with_state(|state| {
        let Some(state) = state else {
            return Some(message);
        };
        if state.email_occasions.insert(message.occasion_key()) {
            state.emails.push(message);
        }
        None
    })
}

/// Where an NPS survey and its message went.
pub enum SurveyDeferral {
    /// Held for the batch's end: the survey row is written there if its message is new.
    Held,
    /// The batch already holds a message for the same member, kind and occasion: nothing.
    Repeated,
    /// Outside a batch: given back, to be written now.
    Now(Box<(Queued, NpsSurvey)>),
}

/// Holds an NPS survey and its message for the batch's end. Later orders of the member in the
/// batch see its day ([`held_survey_day`]), as they would see the row written at once.
pub fn defer_survey(message: Queued, survey: NpsSurvey) -> SurveyDeferral {
    with_state(|state| {
        let Some(state) = state else {
            return SurveyDeferral::Now(Box::new((message, survey)));
        };
        if !state.email_occasions.insert(message.occasion_key()) {
            return SurveyDeferral::Repeated;
        }
        state.surveys.push((message.id().to_owned(), survey));
        state.emails.push(message);
        SurveyDeferral::Held
    })
}

/// The latest day of the member's surveys the batch holds (none outside a batch).
pub fn held_survey_day(shop_id: &str, member_id: &str) -> Option<NaiveDate> {
    with_state(|state| {
        state?
            .surveys
            .iter()
            .filter(|(_, s)| s.shop_id == shop_id && s.member_id == member_id)
            .map(|(_, s)| s.sent_on)
            .max()
    })
}

/// At the end of a batch that keeps its roll-ups back: writes the messages held with an NPS
/// survey, and their surveys (later orders read the survey rows to space surveys out), and
/// returns the others, to be kept back with the roll-ups and written when they are.
pub(super) fn keep_back_emails(conn: &mut DbConnection) -> QueryResult<Vec<Queued>> {
    let (messages, surveys) = take_held();
    let with_survey: HashSet<&str> = surveys.iter().map(|(id, _)| id.as_str()).collect();
    let (now, kept): (Vec<Queued>, Vec<Queued>) = messages
        .into_iter()
        .partition(|m| with_survey.contains(m.id()));
    write_with_surveys(conn, now, surveys)?;
    Ok(kept)
}

/// Writes the messages held (their wake-ups join the batch's), then the surveys of those that
/// were new.
pub(super) fn write_emails(conn: &mut DbConnection) -> QueryResult<()> {
    let (messages, surveys) = take_held();
    write_with_surveys(conn, messages, surveys)
}

/// The messages and surveys the batch holds, taken out of it.
fn take_held() -> (Vec<Queued>, Vec<(String, NpsSurvey)>) {
    with_state(|s| {
        s.map(|s| {
            s.email_occasions.clear();
            (
                std::mem::take(&mut s.emails),
                std::mem::take(&mut s.surveys),
            )
        })
        .unwrap_or_default()
    })
}

fn write_with_surveys(
    conn: &mut DbConnection,
    messages: Vec<Queued>,
    surveys: Vec<(String, NpsSurvey)>,
) -> QueryResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let added = crate::services::mail::write_queued(conn, messages)?;
    let surveys: Vec<NpsSurvey> = surveys
        .into_iter()
        .filter(|(message, _)| added.contains(message))
        .map(|(_, survey)| survey)
        .collect();
    NpsSurvey::insert_all(conn, &surveys)
}
