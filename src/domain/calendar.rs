//! Days as the shop sees them: tier windows, reviews and reports count in the shop's own time
//! zone, so an order placed at 23:30 on 31 December in Sydney belongs to that year.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The shop's time zone from its IANA name; UTC for a name we do not know (logged by the
/// caller that stored it, never a reason to stop applying orders).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The shop's calendar day of a UTC instant.
pub fn local_date(zone: Tz, utc: NaiveDateTime) -> NaiveDate {
    zone.from_utc_datetime(&utc).date_naive()
}

/// The UTC instant the shop's calendar month of `utc` began (monthly caps count from it).
pub fn month_start_utc(zone: Tz, utc: NaiveDateTime) -> NaiveDateTime {
    let day = local_date(zone, utc);
    day_start_utc(zone, day.with_day(1).unwrap_or(day))
}

/// The UTC instant the shop's calendar day `day` begins (reports count from it).
pub fn day_start_utc(zone: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A zone whose midnight is skipped (a DST jump at 00:00) starts the month at the next
    // instant that exists; an ambiguous midnight at its earlier reading.
    zone.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or(midnight, |at| at.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn the_day_is_the_shops_day() {
        let sydney = zone("Australia/Sydney");
        let day = local_date(sydney, at("2026-12-31 13:30:00"));
        assert_eq!(day, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        let la = zone("America/Los_Angeles");
        assert_eq!(
            local_date(la, at("2027-01-01 05:00:00")),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(zone("Not/AZone"), Tz::UTC);
    }

    #[test]
    fn a_month_starts_at_the_shops_midnight() {
        let sydney = zone("Australia/Sydney");
        // 2 March 03:00 UTC is 2 March 14:00 in Sydney (UTC+11 in summer).
        assert_eq!(
            month_start_utc(sydney, at("2027-03-02 03:00:00")),
            at("2027-02-28 13:00:00")
        );
        assert_eq!(
            month_start_utc(Tz::UTC, at("2027-03-31 23:59:59")),
            at("2027-03-01 00:00:00")
        );
        // Late on 31 March in Los Angeles is still March there.
        let la = zone("America/Los_Angeles");
        assert_eq!(
            month_start_utc(la, at("2027-04-01 05:00:00")),
            at("2027-03-01 08:00:00")
        );
    }
}
