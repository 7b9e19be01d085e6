//! A member's survey facts (last survey, counted orders), read for a whole applier batch at its
//! start and kept current through each order change of the batch.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::PAID_STATUSES;
use crate::db::in_list::in_list;
use crate::db::models::Order;
use crate::db::schema::orders;
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;

/// A member's last survey day and counted orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SurveyFacts {
    pub last_survey: Option<NaiveDate>,
    pub counted_orders: u32,
}

impl SurveyFacts {
    /// The facts once the row of one of the member's orders went from `before` to `after`
    /// (an order may also pass from one member to another).
    #[must_use]
    pub fn after_change(self, member_id: &str, before: Option<&Order>, after: &Order) -> Self {
        let was = before.is_some_and(|o| counts_for(o, member_id));
        let is = counts_for(after, member_id);
        let counted_orders = match (was, is) {
            (false, true) => self.counted_orders.saturating_add(1),
            (true, false) => self.counted_orders.saturating_sub(1),
            _ => self.counted_orders,
        };
        Self {
            counted_orders,
            ..self
        }
    }
}

/// Whether `order` is one of `member_id`'s counted orders, as [`counted_orders_query`] counts.
fn counts_for(order: &Order, member_id: &str) -> bool {
    counts(
        order.member_id.as_deref(),
        order.cancelled,
        &order.financial_status,
        member_id,
    )
}

/// Whether an order of `owner`, `cancelled` or not, in `status`, is one of `member_id`'s
/// counted orders.
pub(super) fn counts(owner: Option<&str>, cancelled: bool, status: &str, member_id: &str) -> bool {
    owner == Some(member_id) && !cancelled && PAID_STATUSES.contains(&status)
}

/// The survey facts of the shop's `member_ids`, in two reads (an applier batch's members,
/// `services::batch`); a member with no survey and no counted order has the default.
pub fn survey_facts_of(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &[&str],
) -> QueryResult<HashMap<String, SurveyFacts>> {
    use crate::db::schema::nps_surveys;
    let mut facts: HashMap<String, SurveyFacts> = member_ids
        .iter()
        .map(|id| ((*id).to_owned(), SurveyFacts::default()))
        .collect();
    let last: Vec<(String, Option<NaiveDate>)> = nps_surveys::table
        .filter(shop_keys(
            nps_surveys::shop_id,
            shop_id,
            nps_surveys::member_id,
            member_ids,
        ))
        .group_by(nps_surveys::member_id)
        .select((
            nps_surveys::member_id,
            diesel::dsl::max(nps_surveys::sent_on),
        ))
        .load(conn)?;
    for (member_id, day) in last {
        if let Some(f) = facts.get_mut(&member_id) {
            f.last_survey = day;
        }
    }
    let paid: [&'static str; 3] = PAID_STATUSES;
    let counted: Vec<(Option<String>, i64)> = orders::table
        .filter(shop_keys(
            orders::shop_id,
            shop_id,
            orders::member_id,
            member_ids,
        ))
        .filter(orders::cancelled.eq(false))
        .filter(in_list(orders::financial_status, paid))
        .group_by(orders::member_id)
        .select((orders::member_id, diesel::dsl::count_star()))
        .load(conn)?;
    for (member_id, n) in counted {
        if let Some(f) = member_id.and_then(|id| facts.get_mut(&id)) {
            f.counted_orders = u32::try_from(n).unwrap_or(u32::MAX);
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::FinancialStatus;

    fn order(member: Option<&str>, status: &str, cancelled: bool) -> Order {
        Order {
            financial_status: status.into(),
            cancelled,
            ..Order::for_tests("1", member)
        }
    }

    /// Every change of one order row moves the member's count as a fresh count would.
    #[test]
    fn a_changed_order_moves_the_count_as_counting_again_would() {
        let members = [None, Some("m"), Some("other")];
        let statuses = ["pending", "paid", "refunded", "voided"];
        let mut rows = Vec::new();
        for member in members {
            for status in statuses {
                for cancelled in [false, true] {
                    rows.push(order(member, status, cancelled));
                }
            }
        }
        // The member's other counted orders.
        let others = 2;
        let counted = |o: &Order| {
            o.member_id.as_deref() == Some("m")
                && !o.cancelled
                && FinancialStatus::from(o.financial_status.as_str()).has_been_paid()
        };
        for before in std::iter::once(None).chain(rows.iter().map(Some)) {
            let start = SurveyFacts {
                last_survey: None,
                counted_orders: others + u32::from(before.is_some_and(counted)),
            };
            for after in &rows {
                let moved = start.after_change("m", before, after);
                assert_eq!(
                    moved.counted_orders,
                    others + u32::from(counted(after)),
                    "{before:?} -> {after:?}"
                );
                assert_eq!(moved.last_survey, None);
            }
        }
    }
}
