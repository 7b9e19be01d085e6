//! Whether an order earns at all, separate from how much, so the caller can also use it to
//! decide that an order which earned must now be reversed (it was cancelled).

use chrono::{DateTime, Utc};

use super::rules::{EarnOn, EarningRules};
use crate::domain::event::{FinancialStatus, OrderFacts};

/// Whether `order` earns under `rules`.
///
/// Cancelled orders never earn; test orders only with `earn_on_test_orders`. With
/// `EarnOn::Paid` the order must have been paid (`paid`, or `partially_refunded`/`refunded`,
/// which come after payment). With `EarnOn::Created` any order earns except a voided one
/// (its payment was never taken).
pub fn should_earn(rules: &EarningRules, order: &OrderFacts) -> bool {
    if order.cancelled_at.is_some() || (order.test && !rules.earn_on_test_orders) {
        return false;
    }
    match rules.earn_on {
        EarnOn::Paid => order.financial_status.has_been_paid(),
        EarnOn::Created => order.financial_status != FinancialStatus::Voided,
    }
}

/// Whether `order` is *history* for a shop that installed the app at `installed_at`: dated
/// (see [`OrderFacts::date`]) before the install. History counts for metrics, segments and
/// tiers but earns no points unless the owner asked to award it (`award_history`): otherwise
/// the first reconciliation, or any late `orders/updated` of an old order, would hand out
/// points for purchases made before the program existed.
pub fn earns_despite_date(
    order: &OrderFacts,
    installed_at: DateTime<Utc>,
    award_history: bool,
) -> bool {
    award_history || order.date() >= installed_at
}
