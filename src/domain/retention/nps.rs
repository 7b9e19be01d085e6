//! NPS: a score 0–10 per answer, the report over a period, and when a customer may be asked.

use chrono::NaiveDate;
use serde::Serialize;

use super::lift::round_div;

/// A customer is surveyed (and may answer in the widget) at most once in this many days.
pub const SURVEY_INTERVAL_DAYS: i64 = 90;
/// The survey mail follows the customer's second order.
const SURVEY_AFTER_ORDERS: u32 = 2;

/// A valid answer, 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NpsScore(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NpsError {
    #[error("score must be a whole number from 0 to 10")]
    OutOfRange,
}

impl NpsScore {
    pub fn new(score: i64) -> Result<Self, NpsError> {
        u8::try_from(score)
            .ok()
            .filter(|s| *s <= 10)
            .map(Self)
            .ok_or(NpsError::OutOfRange)
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn category(self) -> NpsCategory {
        match self.0 {
            9.. => NpsCategory::Promoter,
            7 | 8 => NpsCategory::Passive,
            _ => NpsCategory::Detractor,
        }
    }
}

/// Promoters answer 9–10, passives 7–8, detractors 0–6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NpsCategory {
    Promoter,
    Passive,
    Detractor,
}

impl NpsCategory {
    /// The category of a raw score; a score outside 0–10 is refused.
    pub fn of(score: i64) -> Result<Self, NpsError> {
        NpsScore::new(score).map(NpsScore::category)
    }
}

/// The contract's `GET /api/admin/v1/reports/nps` body. `nps` = % promoters − % detractors of all
/// responses, rounded to one decimal (half away from zero); `null` without responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NpsReport {
    pub responses: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub nps: Option<f64>,
}

impl NpsReport {
    /// From counts per category (what a `GROUP BY` gives).
    pub fn from_counts(promoters: u64, passives: u64, detractors: u64) -> Self {
        let responses = promoters + passives + detractors;
        let nps = (responses > 0)
            .then(|| {
                let difference = i128::from(promoters) - i128::from(detractors);
                round_div(difference * 1000, i128::from(responses))
            })
            .and_then(|tenths| i32::try_from(tenths).ok())
            .map(|tenths| f64::from(tenths) / 10.0);
        Self {
            responses,
            promoters,
            passives,
            detractors,
            nps,
        }
    }

    /// From the scores themselves.
    pub fn from_scores(scores: impl IntoIterator<Item = NpsScore>) -> Self {
        let (mut promoters, mut passives, mut detractors) = (0, 0, 0);
        for score in scores {
            match score.category() {
                NpsCategory::Promoter => promoters += 1,
                NpsCategory::Passive => passives += 1,
                NpsCategory::Detractor => detractors += 1,
            }
        }
        Self::from_counts(promoters, passives, detractors)
    }
}

/// Whether the survey mail may go to a customer with `order_count` counted orders who was last
/// surveyed on `last_surveyed`: from their second order on, and at least 90 days after the last
/// survey (`today - last >= 90`).
pub fn may_survey(last_surveyed: Option<NaiveDate>, order_count: u32, today: NaiveDate) -> bool {
    order_count >= SURVEY_AFTER_ORDERS && may_answer(last_surveyed, today)
}

/// Whether a member may answer in the widget, having last answered on `last_answered`: one
/// answer per 90 days.
pub fn may_answer(last_answered: Option<NaiveDate>, today: NaiveDate) -> bool {
    last_answered.is_none_or(|last| (today - last).num_days() >= SURVEY_INTERVAL_DAYS)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
    }

    #[test]
    fn edge_scores_fall_in_their_categories() {
        assert_eq!(NpsCategory::of(0), Ok(NpsCategory::Detractor));
        assert_eq!(NpsCategory::of(6), Ok(NpsCategory::Detractor));
        assert_eq!(NpsCategory::of(7), Ok(NpsCategory::Passive));
        assert_eq!(NpsCategory::of(8), Ok(NpsCategory::Passive));
        assert_eq!(NpsCategory::of(9), Ok(NpsCategory::Promoter));
        assert_eq!(NpsCategory::of(10), Ok(NpsCategory::Promoter));
    }

    #[test]
    fn scores_outside_0_to_10_are_refused() {
        assert_eq!(NpsCategory::of(11), Err(NpsError::OutOfRange));
        assert_eq!(NpsCategory::of(-1), Err(NpsError::OutOfRange));
        assert_eq!(NpsScore::new(256), Err(NpsError::OutOfRange));
        assert_eq!(NpsScore::new(10).map(NpsScore::value), Ok(10));
    }

    #[test]
    fn the_contracts_worked_check_50_30_20_gives_30() {
        let report = NpsReport::from_counts(50, 30, 20);
        assert_eq!(report.responses, 100);
        assert_eq!(report.nps, Some(30.0));
        assert_eq!(
            serde_json::to_value(report).unwrap(),
            serde_json::json!({"responses": 100, "promoters": 50, "passives": 30,
                               "detractors": 20, "nps": 30.0})
        );
    }

    #[test]
    fn nps_is_rounded_to_one_decimal_half_away_from_zero() {
        // 1 promoter of 3: 33.333… → 33.3; 2 of 3: 66.666… → 66.7.
        assert_eq!(NpsReport::from_counts(1, 2, 0).nps, Some(33.3));
        assert_eq!(NpsReport::from_counts(2, 1, 0).nps, Some(66.7));
        // 1 detractor of 3: −33.3; 2 of 3: −66.7.
        assert_eq!(NpsReport::from_counts(0, 2, 1).nps, Some(-33.3));
        assert_eq!(NpsReport::from_counts(0, 1, 2).nps, Some(-66.7));
        // 1 of 16 = 6.25 → 6.3 (an exact half goes away from zero); −6.25 → −6.3.
        assert_eq!(NpsReport::from_counts(1, 15, 0).nps, Some(6.3));
        assert_eq!(NpsReport::from_counts(0, 15, 1).nps, Some(-6.3));
        assert_eq!(NpsReport::from_counts(3, 0, 3).nps, Some(0.0));
        assert_eq!(NpsReport::from_counts(4, 0, 0).nps, Some(100.0));
        assert_eq!(NpsReport::from_counts(0, 0, 4).nps, Some(-100.0));
    }

    #[test]
    fn no_responses_give_no_nps() {
        let report = NpsReport::from_counts(0, 0, 0);
        assert_eq!(report.nps, None);
        assert_eq!(
            serde_json::to_value(report).unwrap()["nps"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn the_report_from_scores_counts_each_category() {
        let scores = [0, 6, 7, 8, 9, 10, 10].map(|s| NpsScore::new(s).unwrap());
        let report = NpsReport::from_scores(scores);
        assert_eq!(
            (report.promoters, report.passives, report.detractors),
            (3, 2, 2)
        );
        // (3 − 2) / 7 = 14.285… → 14.3.
        assert_eq!(report.nps, Some(14.3));
    }

    #[test]
    fn the_survey_follows_the_second_order_at_most_every_90_days() {
        assert!(!may_survey(None, 0, day(0)));
        assert!(!may_survey(None, 1, day(0)));
        assert!(may_survey(None, 2, day(0)));
        assert!(may_survey(None, 5, day(0)));
        assert!(!may_survey(Some(day(0)), 3, day(89)));
        assert!(may_survey(Some(day(0)), 3, day(90)));
        assert!(!may_answer(Some(day(10)), day(99)));
        assert!(may_answer(Some(day(10)), day(100)));
        assert!(may_answer(None, day(0)));
    }
}
