//! The engagement roll-up behind the active engagement rate ("members who earned or redeemed
//! in [from, to]"): one row per account member and shop-local day with such a ledger line,
//! carrying the member's previous such day. A member engaged in `[from, to]` has exactly one
//! row in the period whose previous day is before `from` (or absent), so the report counts rows
//! in a range of an index instead of distinct members over a year of ledger lines.
//!
//! Kept as lines are posted (in the posting's transaction, under the member's row lock, so the
//! chain of previous days of one member is never written by two transactions at once), moved
//! with a guest's lines when an account claims them, and built whole with the other roll-ups.
//! Lines are never voided once posted (reversals are lines of their own), so a day, once
//! engaged, stays engaged. Guests are no members here: only accounts (a platform customer id,
//! not merged away) count, as in "members at `to`".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::models::Member;
use crate::db::schema::{ledger_entries, members, metric_engagement};
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::points::{LedgerKind, LedgerStatus};

/// The lines that make a member engaged on their day: earning (orders, sign-up, birthdays,
/// referrals) and redeeming. Imports, adjustments and expiry are the shop's doing, not theirs.
pub const ENGAGING_KINDS: [LedgerKind; 5] = [
    LedgerKind::Earn,
    LedgerKind::Signup,
    LedgerKind::Birthday,
    LedgerKind::Referral,
    LedgerKind::Redeem,
];

#[derive(Insertable)]
#[diesel(table_name = metric_engagement)]
// NULL, not DEFAULT, for a first day: SQLite takes several rows in one insert only so.
#[diesel(treat_none_as_default_value = false)]
struct EngagedDay<'a> {
    shop_id: &'a str,
    member_id: &'a str,
    day: NaiveDate,
    previous_day: Option<NaiveDate>,
}

/// A line of `kind` was posted for `member_id` at `at` (UTC): the member is engaged on that
/// shop-local day. Call in the posting's transaction.
pub fn line_posted(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    kind: LedgerKind,
    at: NaiveDateTime,
) -> QueryResult<()> {
    if !ENGAGING_KINDS.contains(&kind) || !is_account(conn, shop_id, member_id)? {
        return Ok(());
    }
    engaged_on(conn, shop_id, member_id, at)
}

/// [`line_posted`] for a member whose row is in hand (a posting locked it): no read of it.
pub fn member_line_posted(
    conn: &mut DbConnection,
    member: &Member,
    kind: LedgerKind,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let account = member.platform_customer_id.is_some() && member.merged_into.is_none();
    if !ENGAGING_KINDS.contains(&kind) || !account {
        return Ok(());
    }
    engaged_on(conn, &member.shop_id, &member.id, at)
}

fn engaged_on(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let timezone = crate::services::batch::shop_timezone(conn, shop_id)?;
    let day = calendar::local_date(calendar::zone(&timezone), at);
    // In an applier batch, written with the batch's other days at its end.
    if super::rollups::day_engaged(shop_id, member_id, day) {
        return Ok(());
    }
    add_day(conn, shop_id, member_id, day)
}

/// Adds the days an applier batch collected, per member: one read of the members' latest
/// days and one insert for the days after them (the days of a batch are nearly always today);
/// a day on or before a member's latest goes the one-day way ([`add_day`]).
pub(super) fn add_days(
    conn: &mut DbConnection,
    shop_id: &str,
    days: &BTreeMap<String, BTreeSet<NaiveDate>>,
) -> QueryResult<()> {
    if days.is_empty() {
        return Ok(());
    }
    let members: Vec<&str> = days.keys().map(String::as_str).collect();
    let latest: HashMap<String, Option<NaiveDate>> = metric_engagement::table
        .filter(shop_keys(
            metric_engagement::shop_id,
            shop_id,
            metric_engagement::member_id,
            &members,
        ))
        .group_by(metric_engagement::member_id)
        .select((metric_engagement::member_id, max(metric_engagement::day)))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    let mut dated_back = Vec::new();
    for (member, member_days) in days {
        let (chain, back) = chained_after(latest.get(member).copied().flatten(), member_days);
        rows.extend(chain.into_iter().map(|(day, previous_day)| EngagedDay {
            shop_id,
            member_id: member,
            day,
            previous_day,
        }));
        dated_back.extend(back.into_iter().map(|day| (member, day)));
    }
    for chunk in rows.chunks(1_000) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(
            metric_engagement::table
        )
        .values(chunk)
        .on_conflict_do_nothing()
        .execute(c))?;
    }
    for (member, day) in dated_back {
        add_day(conn, shop_id, member, day)?;
    }
    Ok(())
}

/// The days after `latest` chained from it, and the days before it (which need their
/// neighbours looked up). `latest` itself is known already: a member ordering again on the
/// day of their last order (the common case in a busy shop) adds nothing and reads nothing.
fn chained_after(
    latest: Option<NaiveDate>,
    days: &BTreeSet<NaiveDate>,
) -> (Vec<(NaiveDate, Option<NaiveDate>)>, Vec<NaiveDate>) {
    let (back, after): (Vec<NaiveDate>, Vec<NaiveDate>) = days
        .iter()
        .filter(|&&day| Some(day) != latest)
        .partition(|&&day| latest.is_some_and(|l| day < l));
    let mut previous = latest;
    let chain = after
        .into_iter()
        .map(|day| {
            let row = (day, previous);
            previous = Some(day);
            row
        })
        .collect();
    (chain, back)
}

fn is_account(conn: &mut DbConnection, shop_id: &str, member_id: &str) -> QueryResult<bool> {
    let row: Option<(Option<String>, Option<String>)> = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::id.eq(member_id))
        .select((members::platform_customer_id, members::merged_into))
        .first(conn)
        .optional()?;
    Ok(matches!(row, Some((Some(_), None))))
}

/// Adds `day` to the member's chain: its previous day is the latest before it, and the first
/// day after it (a line dated back, as a merge brings) now follows it.
fn add_day(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    day: NaiveDate,
) -> QueryResult<()> {
    let of_member = || {
        metric_engagement::table
            .filter(metric_engagement::shop_id.eq(shop_id))
            .filter(metric_engagement::member_id.eq(member_id))
    };
    // Lines are posted as they happen, so the day is nearly always the member's latest (or a
    // new one after it): one read decides. Only a line dated before the latest day (a merge
    // brings those) looks for its neighbours.
    let latest: Option<NaiveDate> = of_member()
        .select(max(metric_engagement::day))
        .first(conn)?;
    let (previous_day, next_day) = match latest {
        Some(latest) if latest == day => return Ok(()),
        Some(latest) if latest < day => (Some(latest), None),
        None => (None, None),
        Some(_) => {
            let known: i64 = of_member()
                .filter(metric_engagement::day.eq(day))
                .select(count_star())
                .first(conn)?;
            if known > 0 {
                return Ok(());
            }
            let previous_day: Option<NaiveDate> = of_member()
                .filter(metric_engagement::day.lt(day))
                .select(max(metric_engagement::day))
                .first(conn)?;
            let next_day: Option<NaiveDate> = of_member()
                .filter(metric_engagement::day.gt(day))
                .select(min(metric_engagement::day))
                .first(conn)?;
            (previous_day, next_day)
        }
    };
    let row = EngagedDay {
        shop_id,
        member_id,
        day,
        previous_day,
    };
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(
        metric_engagement::table
    )
    .values(&row)
    .on_conflict_do_nothing()
    .execute(c))?;
    if let Some(next) = next_day {
        diesel::update(of_member().filter(metric_engagement::day.eq(next)))
            .set(metric_engagement::previous_day.eq(Some(day)))
            .execute(conn)?;
    }
    Ok(())
}

/// Builds the rows of `members` (all the shop's accounts when `None`) from their ledger lines,
/// replacing what was there. For the whole build, and for an account a guest's lines moved to.
pub fn rebuild(
    conn: &mut DbConnection,
    shop_id: &str,
    timezone: &str,
    only: Option<&str>,
) -> QueryResult<()> {
    let zone = calendar::zone(timezone);
    let mut delete = diesel::delete(metric_engagement::table)
        .filter(metric_engagement::shop_id.eq(shop_id))
        .into_boxed();
    let mut lines = ledger_entries::table
        .inner_join(members::table.on(members::id.eq(ledger_entries::member_id)))
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(in_list(
            ledger_entries::kind,
            &ENGAGING_KINDS.map(LedgerKind::as_str),
        ))
        .filter(ledger_entries::status.ne(LedgerStatus::Void.as_str()))
        .filter(members::platform_customer_id.is_not_null())
        .filter(members::merged_into.is_null())
        .select((ledger_entries::member_id, ledger_entries::created_at))
        .into_boxed();
    if let Some(member_id) = only {
        delete = delete.filter(metric_engagement::member_id.eq(member_id));
        lines = lines.filter(ledger_entries::member_id.eq(member_id));
    }
    delete.execute(conn)?;
    let lines: Vec<(String, NaiveDateTime)> = lines.load(conn)?;
    let mut days: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for (member, at) in lines {
        days.entry(member)
            .or_default()
            .push(calendar::local_date(zone, at));
    }
    let mut rows = Vec::new();
    for (member, member_days) in &mut days {
        for (day, previous_day) in chained(member_days) {
            rows.push(EngagedDay {
                shop_id,
                member_id: member,
                day,
                previous_day,
            });
        }
    }
    for chunk in rows.chunks(1_000) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(
            metric_engagement::table
        )
        .values(chunk)
        .execute(c))?;
    }
    Ok(())
}

/// Each distinct day of `days` with the one before it.
fn chained(days: &mut Vec<NaiveDate>) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    days.sort_unstable();
    days.dedup();
    let mut previous = None;
    days.iter()
        .map(|&day| {
            let row = (day, previous);
            previous = Some(day);
            row
        })
        .collect()
}

/// Account members engaged in `[from, to]` (shop-local days).
pub fn engaged_members(
    conn: &mut DbConnection,
    shop_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<i64> {
    metric_engagement::table
        .filter(metric_engagement::shop_id.eq(shop_id))
        .filter(metric_engagement::day.ge(from))
        .filter(metric_engagement::day.le(to))
        .filter(
            metric_engagement::previous_day
                .is_null()
                .or(metric_engagement::previous_day.lt(from)),
        )
        .select(count_star())
        .first(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap_or_default()
    }

    #[test]
    fn a_batch_s_days_chain_from_the_member_s_latest_and_earlier_ones_are_set_apart() {
        let days: BTreeSet<NaiveDate> = [d(9), d(2), d(12), d(5)].into();
        assert_eq!(
            chained_after(None, &days),
            (
                vec![
                    (d(2), None),
                    (d(5), Some(d(2))),
                    (d(9), Some(d(5))),
                    (d(12), Some(d(9)))
                ],
                vec![]
            )
        );
        assert_eq!(
            chained_after(Some(d(5)), &days),
            (vec![(d(9), Some(d(5))), (d(12), Some(d(9)))], vec![d(2)])
        );
        assert_eq!(
            chained_after(Some(d(20)), &days),
            (vec![], vec![d(2), d(5), d(9), d(12)])
        );
        assert_eq!(
            chained_after(Some(d(12)), &days),
            (vec![], vec![d(2), d(5), d(9)])
        );
        assert_eq!(
            chained_after(Some(d(1)), &BTreeSet::new()),
            (vec![], vec![])
        );
    }

    #[test]
    fn days_are_chained_once_each_in_order() {
        let mut days = vec![d(9), d(2), d(9), d(5)];
        assert_eq!(
            chained(&mut days),
            vec![(d(2), None), (d(5), Some(d(2))), (d(9), Some(d(5)))]
        );
        assert_eq!(chained(&mut Vec::new()), vec![]);
    }

    /// The count the report makes, over the chain: one row per member with a day in the
    /// period, whatever the period.
    #[test]
    fn one_row_per_engaged_member_falls_in_any_period() {
        let members = [vec![d(2), d(5), d(9)], vec![d(5)], vec![d(1), d(20)]];
        let rows: Vec<(NaiveDate, Option<NaiveDate>)> = members
            .iter()
            .flat_map(|days| chained(&mut days.clone()))
            .collect();
        for from in 1..=21 {
            for to in from..=21 {
                let (from, to) = (d(from), d(to));
                let counted = rows
                    .iter()
                    .filter(|(day, prev)| {
                        *day >= from && *day <= to && prev.is_none_or(|p| p < from)
                    })
                    .count();
                let engaged = members
                    .iter()
                    .filter(|days| days.iter().any(|day| *day >= from && *day <= to))
                    .count();
                assert_eq!(counted, engaged, "{from}..{to}");
            }
        }
    }
}
