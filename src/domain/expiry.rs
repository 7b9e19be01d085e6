//! Points expiry by lot, oldest first.
//!
//! Every confirmed credit (an order's award net of its reversals, sign-up, birthday, a positive
//! adjustment) is a lot. Spending, negative adjustments and earlier expiries consume lots oldest
//! first, so each lot's unspent remainder is known exactly, and only that remainder expires —
//! instead of wiping a whole balance after inactivity as incumbents do.

use chrono::{Months, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// When points expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", deny_unknown_fields)]
pub enum ExpiryPolicy {
    /// Each lot expires `months` after it was earned.
    AfterEarning {
        months: u32,
        #[serde(default = "fourteen")]
        remind_days_before: u32,
    },
    /// Everything unspent expires `months` after the member's last earning or spending.
    AfterInactivity {
        months: u32,
        #[serde(default = "fourteen")]
        remind_days_before: u32,
    },
}

/// What is wrong with an expiry policy; each names its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("expiry months must be 1–120")]
    Months,
    #[error("remind_days_before must be at most 90")]
    RemindDays,
}

fn fourteen() -> u32 {
    14
}

impl ExpiryPolicy {
    pub fn validate(&self) -> Result<(), ExpiryError> {
        let (months, remind) = self.parts();
        if !(1..=120).contains(&months) {
            return Err(ExpiryError::Months);
        }
        if remind > 90 {
            return Err(ExpiryError::RemindDays);
        }
        Ok(())
    }

    fn parts(&self) -> (u32, u32) {
        match *self {
            Self::AfterEarning {
                months,
                remind_days_before,
            }
            | Self::AfterInactivity {
                months,
                remind_days_before,
            } => (months, remind_days_before),
        }
    }

    pub fn remind_days_before(&self) -> u32 {
        self.parts().1
    }

    /// When a lot earned at `earned_at` expires, given the member's last activity.
    pub fn expires_at(
        &self,
        earned_at: NaiveDateTime,
        last_activity: NaiveDateTime,
    ) -> NaiveDateTime {
        let (months, _) = self.parts();
        let from = match self {
            Self::AfterEarning { .. } => earned_at,
            Self::AfterInactivity { .. } => last_activity.max(earned_at),
        };
        from.checked_add_months(Months::new(months))
            .unwrap_or(NaiveDateTime::MAX)
    }
}

/// A credit of points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// The ledger line that created it (names the expiry line, so each lot expires once).
    pub id: String,
    pub earned_at: NaiveDateTime,
    /// Net points (an order's award minus what its refunds took back).
    pub points: i64,
}

/// The unspent remainder of each lot (lots sorted oldest first) after `consumed` points were
/// taken, oldest first.
pub fn remainders(lots: &[Lot], consumed: i64) -> Vec<i64> {
    let mut left = consumed.max(0);
    lots.iter()
        .map(|lot| {
            let take = left.min(lot.points.max(0));
            left -= take;
            lot.points.max(0) - take
        })
        .collect()
}

/// A lot's remainder that expires, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    pub lot_id: String,
    pub points: i64,
    pub expires_at: NaiveDateTime,
}

/// The remainders that have expired by `now` and those expiring within the reminder window.
pub fn plan(
    policy: &ExpiryPolicy,
    lots: &[Lot],
    consumed: i64,
    last_activity: NaiveDateTime,
    now: NaiveDateTime,
) -> (Vec<Expiring>, Vec<Expiring>) {
    let window = chrono::Duration::days(i64::from(policy.remind_days_before()));
    let mut due = Vec::new();
    let mut soon = Vec::new();
    for (lot, left) in lots.iter().zip(remainders(lots, consumed)) {
        if left <= 0 {
            continue;
        }
        let e = Expiring {
            lot_id: lot.id.clone(),
            points: left,
            expires_at: policy.expires_at(lot.earned_at, last_activity),
        };
        if e.expires_at <= now {
            due.push(e);
        } else if e.expires_at - now <= window {
            soon.push(e);
        }
    }
    (due, soon)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use proptest::prelude::*;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    fn lot(id: &str, when: NaiveDateTime, points: i64) -> Lot {
        Lot {
            id: id.into(),
            earned_at: when,
            points,
        }
    }

    const YEARLY: ExpiryPolicy = ExpiryPolicy::AfterEarning {
        months: 12,
        remind_days_before: 14,
    };

    #[test]
    fn spending_comes_off_the_oldest_lot_first() {
        let lots = [
            lot("a", at(2025, 1, 1), 100),
            lot("b", at(2025, 6, 1), 200),
            lot("c", at(2025, 9, 1), 50),
        ];
        assert_eq!(remainders(&lots, 0), vec![100, 200, 50]);
        assert_eq!(remainders(&lots, 150), vec![0, 150, 50]);
        assert_eq!(remainders(&lots, 400), vec![0, 0, 0]);
    }

    #[test]
    fn only_the_unspent_remainder_of_an_old_lot_expires() {
        let lots = [lot("a", at(2025, 1, 1), 100), lot("b", at(2025, 6, 1), 200)];
        let (due, soon) = plan(&YEARLY, &lots, 30, at(2025, 6, 1), at(2026, 1, 2));
        assert_eq!(
            due,
            vec![Expiring {
                lot_id: "a".into(),
                points: 70,
                expires_at: at(2026, 1, 1)
            }]
        );
        assert!(soon.is_empty());
        let (due, soon) = plan(&YEARLY, &lots, 30, at(2025, 6, 1), at(2026, 5, 20));
        assert_eq!(due.len(), 1);
        assert_eq!(
            soon,
            vec![Expiring {
                lot_id: "b".into(),
                points: 200,
                expires_at: at(2026, 6, 1)
            }]
        );
    }

    #[test]
    fn inactivity_expiry_moves_with_activity() {
        let policy = ExpiryPolicy::AfterInactivity {
            months: 6,
            remind_days_before: 7,
        };
        let lots = [lot("a", at(2025, 1, 1), 100)];
        let (due, _) = plan(&policy, &lots, 0, at(2025, 5, 1), at(2025, 10, 31));
        assert!(due.is_empty(), "active in May: expires 1 November");
        let (due, _) = plan(&policy, &lots, 0, at(2025, 5, 1), at(2025, 11, 1));
        assert_eq!(due.len(), 1);
    }

    #[test]
    fn month_ends_clamp_and_policies_validate() {
        assert_eq!(
            YEARLY.expires_at(at(2024, 2, 29), at(2024, 2, 29)),
            at(2025, 2, 28)
        );
        assert!(YEARLY.validate().is_ok());
        assert!(ExpiryPolicy::AfterEarning {
            months: 0,
            remind_days_before: 1
        }
        .validate()
        .is_err());
        assert!(ExpiryPolicy::AfterInactivity {
            months: 3,
            remind_days_before: 91
        }
        .validate()
        .is_err());
        let parsed: ExpiryPolicy =
            serde_json::from_str(r#"{"mode":"after_earning","months":12}"#).unwrap();
        assert_eq!(parsed, YEARLY);
        let typo = serde_json::from_str::<ExpiryPolicy>(
            r#"{"mode":"after_earning","months":12,"remind_day_before":3}"#,
        );
        assert!(
            typo.is_err_and(|e| e.to_string().contains("remind_day_before")),
            "typos are refused by name"
        );
    }

    proptest! {
        #[test]
        fn remainders_account_for_every_point(points in proptest::collection::vec(0i64..1000, 0..20), consumed in 0i64..20_000) {
            let lots: Vec<Lot> = points.iter().enumerate().map(|(i, p)| lot(&i.to_string(), at(2025, 1, 1), *p)).collect();
            let total: i64 = points.iter().sum();
            let left = remainders(&lots, consumed);
            prop_assert_eq!(left.iter().sum::<i64>(), (total - consumed).max(0));
            prop_assert!(left.iter().zip(&points).all(|(l, p)| *l >= 0 && l <= p));
            // Oldest first: once a lot has a remainder, every later lot is untouched.
            if let Some(first) = left.iter().position(|l| *l > 0) {
                prop_assert!(left.iter().zip(&points).skip(first + 1).all(|(l, p)| l == p));
            }
        }
    }
}
