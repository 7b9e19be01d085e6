//! Days as the shop sees them: tier windows, reviews and reports count in the shop's own time
//! zone, so an order placed at 23:30 on 31 December in Sydney belongs to that year.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
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
}
