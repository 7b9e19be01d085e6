//! The donations report: donations summed per charity. Pure; the service loads the rows.

use std::collections::BTreeMap;

use serde::Serialize;

/// One donation: the charity, the amount given (minor units) and the points it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Donation {
    pub charity: String,
    pub amount_minor: i64,
    pub points: i64,
}

/// The donations to one charity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CharityTotal {
    pub charity: String,
    pub donations: i64,
    pub amount_minor: i64,
    pub points: i64,
}

/// Every charity's total, largest amount first (then by name), and the amount over all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DonationTotals {
    pub charities: Vec<CharityTotal>,
    pub total_minor: i64,
}

/// Sums `donations` per charity. Charities are told apart exactly as the owner spelled them in
/// the catalog. Sums saturate rather than wrap: each amount is capped (`MAX_AMOUNT_MINOR`), so
/// only millions of the largest donations could reach `i64::MAX`, and a report must not panic.
pub fn summarise(donations: impl IntoIterator<Item = Donation>) -> DonationTotals {
    let mut per_charity: BTreeMap<String, CharityTotal> = BTreeMap::new();
    for d in donations {
        let total = per_charity
            .entry(d.charity.clone())
            .or_insert_with(|| CharityTotal {
                charity: d.charity,
                donations: 0,
                amount_minor: 0,
                points: 0,
            });
        total.donations = total.donations.saturating_add(1);
        total.amount_minor = total.amount_minor.saturating_add(d.amount_minor);
        total.points = total.points.saturating_add(d.points);
    }
    let mut charities: Vec<CharityTotal> = per_charity.into_values().collect();
    charities.sort_by(|a, b| {
        b.amount_minor
            .cmp(&a.amount_minor)
            .then_with(|| a.charity.cmp(&b.charity))
    });
    let total_minor = charities
        .iter()
        .fold(0i64, |sum, c| sum.saturating_add(c.amount_minor));
    DonationTotals {
        charities,
        total_minor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(charity: &str, amount_minor: i64, points: i64) -> Donation {
        Donation {
            charity: charity.into(),
            amount_minor,
            points,
        }
    }

    #[test]
    fn donations_are_summed_per_charity_largest_first() {
        let totals = summarise([
            d("Red Crescent", 500, 1000),
            d("Food Bank", 1000, 1500),
            d("Red Crescent", 500, 1000),
            d("Animal Shelter", 1000, 2000),
        ]);
        let rows: Vec<(&str, i64, i64, i64)> = totals
            .charities
            .iter()
            .map(|c| (c.charity.as_str(), c.donations, c.amount_minor, c.points))
            .collect();
        assert_eq!(
            rows,
            [
                ("Animal Shelter", 1, 1000, 2000),
                ("Food Bank", 1, 1000, 1500),
                ("Red Crescent", 2, 1000, 2000),
            ]
        );
        assert_eq!(totals.total_minor, 3000);
    }

    #[test]
    fn no_donations_make_an_empty_report_and_huge_sums_saturate() {
        assert_eq!(
            summarise([]),
            DonationTotals {
                charities: vec![],
                total_minor: 0
            }
        );
        let totals = summarise([d("A", i64::MAX, i64::MAX), d("A", 1, 1), d("B", 5, 5)]);
        assert_eq!(totals.charities[0].amount_minor, i64::MAX);
        assert_eq!(totals.charities[0].points, i64::MAX);
        assert_eq!(totals.total_minor, i64::MAX);
    }
}
