//! The period form of the admin's report pages: `?from=&to=` from two date inputs of a GET form.
//! Empty or missing days default to the last 30 days ending today in the SHOP's time zone (an
//! owner in Sydney looking on Monday morning sees Monday, not Sunday UTC). The days are checked
//! by the same rules as the API's periods (`http::admin::reports::period`, which
//! `metrics_period` builds on); a page also refuses more than `MAX_DAYS`, a daily chart beyond
//! a year being unreadable (the API's three-year cap is wider, so the API accepts every period
//! a page does).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::domain::calendar;
use crate::http::admin::reports::{period, PeriodError};

/// The longest period a page shows, in days (a leap year).
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What the form shows: the days as typed (so a mistake can be corrected), and what is wrong.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodForm {
    pub from: String,
    pub to: String,
    /// A key of the texts table (the page says it in the owner's language).
    pub error: Option<&'static str>,
    /// Which input the error is about: `from`, `to` or `both`.
    pub invalid: Option<&'static str>,
}

/// A period the page can report on, or the form to show again with its error.
pub enum Chosen {
    Days {
        from: NaiveDate,
        to: NaiveDate,
        form: PeriodForm,
    },
    Refused(PeriodForm),
}

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// The period of `query` for a shop in `timezone` (IANA), `now` being the current UTC instant.
pub fn choose(query: &PeriodQuery, timezone: &str, now: NaiveDateTime) -> Chosen {
    let today = calendar::local_date(calendar::zone(timezone), now);
    let (from_text, to_text) = (given(query.from.as_deref()), given(query.to.as_deref()));
    let refused = |error, invalid| {
        Chosen::Refused(PeriodForm {
            from: from_text.unwrap_or_default().to_owned(),
            to: to_text.unwrap_or_default().to_owned(),
            error: Some(error),
            invalid: Some(invalid),
        })
    };
    let (start, end) = match period(from_text, to_text, today) {
        Ok(days) => days,
        Err(PeriodError::BadDay("from")) => return refused("period_bad_from", "from"),
        Err(PeriodError::BadDay(_) | PeriodError::Missing(_)) => {
            return refused("period_bad_to", "to")
        }
        Err(PeriodError::FromAfterTo) => return refused("period_from_after_to", "both"),
    };
    let (from, to) = (start.date(), end.date().pred_opt().unwrap_or(end.date()));
    if (to - from).num_days() + 1 > MAX_DAYS {
        return refused("period_too_long", "both");
    }
    Chosen::Days {
        from,
        to,
        form: PeriodForm {
            from: from.to_string(),
            to: to.to_string(),
            error: None,
            invalid: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn q(from: &str, to: &str) -> PeriodQuery {
        PeriodQuery {
            from: Some(from.into()),
            to: Some(to.into()),
        }
    }

    #[test]
    fn the_default_is_thirty_days_ending_today_in_the_shops_zone() {
        // 13:30 UTC on 30 November is already 1 December in Sydney.
        let now = at("2026-11-30 13:30:00");
        let Chosen::Days { from, to, .. } = choose(&q("", " "), "Australia/Sydney", now) else {
            panic!("refused")
        };
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-11-02".into(), "2026-12-01".into())
        );
        let Chosen::Days { from, to, .. } = choose(&PeriodQuery::default(), "UTC", now) else {
            panic!("refused")
        };
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
    }

    #[test]
    fn bad_periods_are_refused_naming_the_input() {
        let now = at("2026-11-30 12:00:00");
        for (from, to, error, invalid) in [
            ("soon", "2026-11-01", "period_bad_from", "from"),
            ("2026-11-01", "2026-02-30", "period_bad_to", "to"),
            ("2026-11-02", "2026-11-01", "period_from_after_to", "both"),
            ("2025-01-01", "2026-01-02", "period_too_long", "both"),
        ] {
            let Chosen::Refused(form) = choose(&q(from, to), "UTC", now) else {
                panic!("{from} {to} accepted")
            };
            assert_eq!((form.error, form.invalid), (Some(error), Some(invalid)));
            assert_eq!((form.from.as_str(), form.to.as_str()), (from, to));
        }
        assert!(matches!(
            choose(&q("2025-01-01", "2026-01-01"), "UTC", now),
            Chosen::Days { .. }
        ));
    }
}
