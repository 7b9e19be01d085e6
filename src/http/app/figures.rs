//! The metrics report as the owner reads it: each figure with its label, its value formatted
//! (percentages with one decimal, money in the shop's currency), or `None` where the report
//! has `null` (a zero denominator: not enough data in the period), shown as "—" with a hint.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::money::{Currency, Money};
use crate::services::retention::metrics_report::MetricsReport;

/// One figure: `key` is the report's field (`aov_minor.members`), `label` a text key.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub value: Option<String>,
    /// A short note under the value (the NPS's number of answers).
    pub note: Option<String>,
}

/// A titled group of figures (a card grid on the page).
#[derive(Debug, Serialize)]
pub struct Group {
    pub title: &'static str,
    pub figures: Vec<Figure>,
}

/// The shop's currency, or (for a code we cannot read) the code with two decimals.
pub fn currency_of(code: &str) -> Currency {
    Currency::parse(code).unwrap_or(Currency {
        code: code.to_owned(),
        exponent: 2,
    })
}

/// `12.34 USD`.
pub fn money(currency: &Currency, minor: i64) -> String {
    format!(
        "{} {}",
        Money::new(minor).to_decimal_string(currency.exponent),
        currency.code
    )
}

fn pct(value: Option<f64>) -> Option<String> {
    value.map(|v| format!("{v:.1} %"))
}

/// A number with one decimal, without a trailing `.0`.
fn number(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

fn figure(key: &'static str, value: Option<String>) -> Figure {
    Figure {
        key,
        label: key,
        value,
        note: None,
    }
}

/// The report's figures in three groups; labels are text keys the template looks up.
pub fn groups(
    report: &MetricsReport,
    currency: &Currency,
    t: &BTreeMap<&'static str, &'static str>,
) -> Vec<Group> {
    let cash = |minor: Option<i64>| minor.map(|m| money(currency, m));
    let nps_note = t
        .get("nps_responses")
        .map(|words| format!("{} {words}", report.nps.responses));
    vec![
        Group {
            title: "m_retention",
            figures: vec![
                figure("crr_pct", pct(report.crr_pct)),
                figure("churn_pct", pct(report.churn_pct)),
                figure("rpr_pct", pct(report.rpr_pct)),
                figure("lcr_pct", pct(report.lcr_pct)),
                figure("aer_pct", pct(report.aer_pct)),
                figure(
                    "avg_days_member_before_churn",
                    report.avg_days_member_before_churn.map(number),
                ),
            ],
        },
        Group {
            title: "m_revenue",
            figures: vec![
                figure("revenue_total", cash(Some(report.revenue_minor.total))),
                figure("revenue_members", cash(Some(report.revenue_minor.members))),
                figure("revenue_repeat", cash(Some(report.revenue_minor.repeat))),
                figure("aov_all", cash(report.aov_minor.all)),
                figure("aov_members", cash(report.aov_minor.members)),
                figure("aov_non_members", cash(report.aov_minor.non_members)),
                figure("clv", cash(report.clv_minor)),
            ],
        },
        Group {
            title: "m_loyalty",
            figures: vec![
                figure("redemption_rate_pct", pct(report.redemption_rate_pct)),
                Figure {
                    note: nps_note,
                    ..figure("nps", report.nps.nps.map(number))
                },
                figure("customers_new", Some(report.customers.new.to_string())),
                figure(
                    "customers_at_end",
                    Some(report.customers.at_end.to_string()),
                ),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_follows_the_currencys_decimals_and_numbers_drop_a_bare_zero() {
        assert_eq!(money(&currency_of("USD"), 3_750), "37.50 USD");
        assert_eq!(money(&currency_of("JPY"), 3_750), "3750 JPY");
        assert_eq!(money(&currency_of("KWD"), 3_750), "3.750 KWD");
        assert_eq!(money(&currency_of("??"), -5), "-0.05 ??");
        assert_eq!(number(40.0), "40");
        assert_eq!(number(12.26), "12.3");
        assert_eq!(pct(Some(33.3)).as_deref(), Some("33.3 %"));
        assert_eq!(pct(None), None);
    }
}
