//! A member's pending points by the day they become spendable: one read for the widget's
//! "pending" list and the points e-mail's, so both show the same figures.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::ledger_entries;
use crate::db::DbConnection;
use crate::domain::points::LedgerStatus;

/// Points that confirm on one day; `day` is `None` for lines held until an event, not a date
/// (such lines are listed first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingDay {
    pub day: Option<NaiveDate>,
    pub points: i64,
}

/// The member's pending lines summed by the day they confirm, soonest first. A reversal nets
/// against its award's day, so a day whose lines sum to nothing or less is left out.
pub fn pending_by_day(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
) -> QueryResult<Vec<PendingDay>> {
    let rows: Vec<(Option<chrono::NaiveDateTime>, i64)> =
        crate::per_backend!(conn, |c| ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::member_id.eq(member_id))
            .filter(ledger_entries::status.eq(LedgerStatus::Pending.as_str()))
            .select((ledger_entries::confirms_at, ledger_entries::delta))
            .load(c))?;
    Ok(sum_by_day(rows))
}

/// Sorted here rather than in SQL: the read is served by the member's history index, which is
/// not ordered by date (see migration 000041).
fn sum_by_day(mut rows: Vec<(Option<chrono::NaiveDateTime>, i64)>) -> Vec<PendingDay> {
    rows.sort_unstable_by_key(|(at, _)| *at);
    let mut days: Vec<PendingDay> = Vec::new();
    for (at, delta) in rows {
        let day = at.map(|t| t.date());
        match days.last_mut() {
            Some(last) if last.day == day => last.points += delta,
            _ => days.push(PendingDay { day, points: delta }),
        }
    }
    days.retain(|d| d.points > 0);
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> Option<chrono::NaiveDateTime> {
        NaiveDate::from_ymd_opt(2026, 12, day).and_then(|d| d.and_hms_opt(hour, 0, 0))
    }

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, d)
    }

    #[test]
    fn lines_of_one_day_are_summed_and_days_come_soonest_first() {
        let rows = vec![(at(9, 8), 30), (at(3, 23), 10), (at(3, 1), 5), (None, 7)];
        assert_eq!(
            sum_by_day(rows),
            vec![
                PendingDay {
                    day: None,
                    points: 7
                },
                PendingDay {
                    day: day(3),
                    points: 15
                },
                PendingDay {
                    day: day(9),
                    points: 30
                },
            ]
        );
    }

    #[test]
    fn a_day_netted_to_nothing_by_a_reversal_is_left_out() {
        let rows = vec![
            (at(3, 1), 40),
            (at(3, 1), -40),
            (at(4, 1), 20),
            (at(5, 1), 10),
            (at(5, 2), -15),
        ];
        assert_eq!(
            sum_by_day(rows),
            vec![PendingDay {
                day: day(4),
                points: 20
            }]
        );
    }

    #[test]
    fn no_pending_lines_give_no_days() {
        assert!(sum_by_day(Vec::new()).is_empty());
    }
}
