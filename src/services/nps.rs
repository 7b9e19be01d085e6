//! NPS: the survey mail after a member's second counted order, the answers from its links and
//! from the storefront widget, and the report.
//!
//! - The survey is queued in the transaction that applies the order (`services::earn`), dated by
//!   the order's own day in the shop's zone: a member is surveyed from their second paid,
//!   uncancelled order on, at most once per 90 days (`domain::retention::may_survey`). Guests
//!   (no platform account) and orders from before the install (history) are never surveyed.
//!   The mail's occasion is the order, so a replayed delivery queues nothing new.
//! - Each survey has a random 256-bit token; its links `GET /nps/{token}?score=N` record one
//!   response. A second click within 24 hours of the first changes that same response's score
//!   (a mis-tap is corrected); later clicks change nothing. The optional comment updates it too.
//! - The widget records one response per member per 90 days (`may_answer`), whatever the
//!   channel of their last answer.

mod answers;
mod survey_facts;

use chrono::NaiveDate;
use diesel::prelude::*;
use rand::RngCore;
use serde_json::json;

use crate::db::in_list::in_list;
use crate::db::models::{Member, NpsResponse, NpsSurvey, Order, Shop};
use crate::db::schema::{nps_responses, orders};
use crate::db::{new_id, DbConnection};
use crate::domain::calendar;
use crate::domain::event::FinancialStatus;
use crate::domain::mail::Kind;
use crate::domain::retention::{may_answer, may_survey, NpsCategory, NpsReport, NpsScore};
use crate::services::batch::SurveyDeferral;
use crate::services::program::Program;

pub use answers::{answer_by_link, answer_in_widget, comment_by_link, LinkAnswer, NpsError};
use survey_facts::counts;
pub use survey_facts::{survey_facts_of, SurveyFacts};

/// Longest comment kept, in characters.
pub const COMMENT_MAX_CHARS: usize = 1000;

/// The shop-local day of a UTC instant.
fn local_day(shop: &Shop, at: chrono::NaiveDateTime) -> NaiveDate {
    calendar::local_date(calendar::zone(&shop.timezone), at)
}

/// The stored `financial_status` values of orders that have been paid
/// (`FinancialStatus::has_been_paid`; a unit test keeps the two in step).
const PAID_STATUSES: [&str; 3] = ["paid", "partially_refunded", "refunded"];

/// How many orders of a member count: paid at some point and not cancelled.
#[diesel::dsl::auto_type]
fn counted_orders_query<'a>(shop_id: &'a str, member_id: &'a str) -> _ {
    let paid: [&'static str; 3] = PAID_STATUSES;
    let cancelled: bool = false;
    orders::table
        .filter(orders::shop_id.eq(shop_id))
        .filter(orders::member_id.eq(member_id))
        .filter(orders::cancelled.eq(cancelled))
        .filter(orders::financial_status.eq_any(paid))
        .count()
}

/// A member's counted orders: paid at some point and not cancelled.
pub fn counted_orders(conn: &mut DbConnection, shop_id: &str, member_id: &str) -> QueryResult<u32> {
    let n: i64 = counted_orders_query(shop_id, member_id).get_result(conn)?;
    let stored = u32::try_from(n).unwrap_or(u32::MAX);
    Ok(stored.saturating_add(held_counted_orders(shop_id, member_id)))
}

/// The member's counted orders among the new orders an applier batch holds (none outside a
/// batch): counts of stored orders add them rather than writing what is held first, since a
/// member's second order in one batch is common under load.
fn held_counted_orders(shop_id: &str, member_id: &str) -> u32 {
    crate::services::ledger::held_orders_counting(|o| {
        o.shop_id == shop_id
            && counts(
                o.member_id.as_deref(),
                o.cancelled,
                &o.financial_status,
                member_id,
            )
    })
}

/// The member's last survey day and their counted orders, in one read: the order path asks
/// after every order, and a round trip costs more than counting one member's orders.
fn last_survey_and_orders(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
) -> QueryResult<(Option<NaiveDate>, u32)> {
    use crate::db::schema::nps_surveys;
    let last = nps_surveys::table
        .filter(nps_surveys::shop_id.eq(shop_id))
        .filter(nps_surveys::member_id.eq(member_id))
        .select(diesel::dsl::max(nps_surveys::sent_on))
        .single_value();
    let orders = counted_orders_query(shop_id, member_id).single_value();
    // Kept prepared (`db::fixed`): SQLite's `IN` list of paid statuses would otherwise be
    // parsed again after every order.
    let (last, orders): (Option<NaiveDate>, Option<i64>) =
        crate::per_backend!(conn, |c| crate::fixed!(diesel::select((last, orders)))
            .get_result(c))?;
    let stored = u32::try_from(orders.unwrap_or(0)).unwrap_or(u32::MAX);
    // Surveys an applier batch holds count as made.
    let last = last.max(crate::services::batch::held_survey_day(shop_id, member_id));
    Ok((
        last,
        stored.saturating_add(held_counted_orders(shop_id, member_id)),
    ))
}

/// What the order path knows of a member's surveys and counted orders without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyHistory {
    /// The order's event made the member (nothing merged into them): never surveyed, and this
    /// is their only order.
    NewMember,
    /// As the applier batch read them when it started, with this event's change counted.
    Known(SurveyFacts),
    /// Nothing: they are read.
    Unknown,
}

/// After `order` was stored for `member`: queues the survey mail if the member is due one.
/// Returns whether a survey was made.
pub fn after_order(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    order: &Order,
    history: SurveyHistory,
    now: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let counted =
        FinancialStatus::from(order.financial_status.as_str()).has_been_paid() && !order.cancelled;
    // Guests have no account to answer from; history is not an experience to ask about now.
    if !counted || member.platform_customer_id.is_none() || order.placed_at < shop.installed_at {
        return Ok(false);
    }
    let day = local_day(shop, order.placed_at);
    let (last, orders) = match history {
        SurveyHistory::NewMember => (None, 1),
        SurveyHistory::Known(f) => (f.last_survey, f.counted_orders),
        SurveyHistory::Unknown => last_survey_and_orders(conn, &shop.id, &member.id)?,
    };
    if !may_answer(last, day) || !may_survey(last, orders, day) {
        return Ok(false);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    // A path: the deliverer puts the app's public URL in front (`mail::context`).
    let Some(message) = crate::services::mail::prepare(
        shop,
        program,
        member,
        Kind::NpsSurvey,
        &format!("order:{}", order.platform_order_id),
        json!({ "action_url": format!("/nps/{token}") }),
        now,
    ) else {
        return Ok(false);
    };
    let survey = NpsSurvey {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        token,
        sent_on: day,
        created_at: now,
    };
    // In an applier batch both are written when it ends (one insert each for the batch).
    match crate::services::batch::defer_survey(message, survey) {
        SurveyDeferral::Held => Ok(true),
        SurveyDeferral::Repeated => Ok(false),
        SurveyDeferral::Now(now_written) => {
            let (message, survey) = *now_written;
            let queued = message.write(conn)?;
            if queued {
                NpsSurvey::insert_all(conn, &[survey])?;
            }
            Ok(queued)
        }
    }
}

/// Whether the widget asks `member` the NPS question now: two counted orders and no answer in
/// the last 90 days.
pub fn widget_asks(
    conn: &mut DbConnection,
    shop: &Shop,
    member: &Member,
    now: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let last = NpsResponse::last_answered_on(conn, &shop.id, &member.id)?;
    if !may_answer(last, local_day(shop, now)) {
        return Ok(false);
    }
    Ok(counted_orders(conn, &shop.id, &member.id)? >= 2)
}

/// The shop's responses answered on the days `from..=to`.
pub fn report(
    conn: &mut DbConnection,
    shop_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<NpsReport> {
    let scores: Vec<(i32, i64)> = nps_responses::table
        .filter(nps_responses::shop_id.eq(shop_id))
        .filter(nps_responses::answered_on.ge(from))
        .filter(nps_responses::answered_on.le(to))
        .group_by(nps_responses::score)
        .select((nps_responses::score, diesel::dsl::count_star()))
        .load(conn)?;
    let (mut promoters, mut passives, mut detractors) = (0u64, 0u64, 0u64);
    for (score, n) in scores {
        let n = u64::try_from(n).unwrap_or(0);
        match NpsScore::new(i64::from(score)).map(NpsScore::category) {
            Ok(NpsCategory::Promoter) => promoters += n,
            Ok(NpsCategory::Passive) => passives += n,
            Ok(NpsCategory::Detractor) => detractors += n,
            // The column's CHECK keeps scores in 0–10.
            Err(_) => {}
        }
    }
    Ok(NpsReport::from_counts(promoters, passives, detractors))
}

/// Redaction: the members' responses lose their link to them and their comments (the scores
/// stay in the shop's report); their surveys' tokens are deleted, so old links answer nothing.
pub fn forget_members(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &[String],
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::nps_surveys;
    let surveys: Vec<String> = nps_surveys::table
        .filter(nps_surveys::shop_id.eq(shop_id))
        .filter(in_list(nps_surveys::member_id, member_ids))
        .select(nps_surveys::id)
        .load(conn)?;
    diesel::update(
        nps_responses::table
            .filter(nps_responses::shop_id.eq(shop_id))
            .filter(
                in_list(nps_responses::member_id, member_ids)
                    .or(in_list(nps_responses::survey_id, &surveys)),
            ),
    )
    .set((
        nps_responses::member_id.eq(None::<String>),
        nps_responses::survey_id.eq(None::<String>),
        nps_responses::comment.eq(None::<String>),
        nps_responses::updated_at.eq(now),
    ))
    .execute(conn)?;
    diesel::delete(
        nps_surveys::table
            .filter(nps_surveys::shop_id.eq(shop_id))
            .filter(in_list(nps_surveys::id, &surveys)),
    )
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counted_statuses_are_exactly_the_paid_ones() {
        for status in [
            "pending",
            "authorized",
            "partially_paid",
            "paid",
            "partially_refunded",
            "refunded",
            "voided",
        ] {
            assert_eq!(
                PAID_STATUSES.contains(&status),
                FinancialStatus::from(status).has_been_paid(),
                "{status}"
            );
        }
    }
}
