//! Points that do not come from orders: sign-up and birthday.

use chrono::{Datelike, NaiveDate};

use super::rules::EarningRules;

/// How many days after the birthday a missed award can still be given (a daily job that did
/// not run on the day catches up). The window never crosses into the next calendar year, so
/// "last awarded year" stays a complete record.
pub const BIRTHDAY_GRACE_DAYS: i64 = 7;

/// Points for creating an account, or `None` when the shop gives none.
pub fn signup_award(rules: &EarningRules) -> Option<i64> {
    (rules.signup_points > 0).then_some(rules.signup_points)
}

/// The day a birthday is celebrated in `year`: the date itself, or 1 March for 29 February in a
/// year that has none.
pub fn observed_birthday(birthday: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

/// Whether the birthday award is due `today`: the shop gives one, this year's (observed)
/// birthday was today or up to `BIRTHDAY_GRACE_DAYS - 1` days ago within this year, the
/// member was born before today, and nothing was awarded for this year yet.
pub fn birthday_due(
    rules: &EarningRules,
    birthday: NaiveDate,
    today: NaiveDate,
    last_awarded_year: Option<i32>,
) -> bool {
    if rules.birthday_points <= 0 || birthday >= today {
        return false;
    }
    if last_awarded_year.is_some_and(|year| year >= today.year()) {
        return false;
    }
    observed_birthday(birthday, today.year()).is_some_and(|day| {
        let late = (today - day).num_days();
        (0..BIRTHDAY_GRACE_DAYS).contains(&late)
    })
}
