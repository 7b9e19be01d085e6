//! The template filters that speak the mail's language: `date` ("3 March 2027", "3 مارس 2027")
//! and `points` ("1 point", "45 points"; Arabic with its singular, dual and plural forms).

use chrono::NaiveDate;
use minijinja::{Error, ErrorKind, State, Value};

use super::Locale;

/// The mail's locale, from the `locale` variable every render carries.
fn locale(state: &State) -> Locale {
    match state.lookup("locale") {
        Some(value) if value.as_str() == Some("ar") => Locale::Ar,
        _ => Locale::En,
    }
}

fn absent(value: &Value) -> bool {
    value.is_none() || value.is_undefined()
}

/// `{{ expiring_on|date }}`: a `YYYY-MM-DD` date worded for the reader; nothing for `none`.
pub(super) fn date(state: &State, value: Value) -> Result<String, Error> {
    if absent(&value) {
        return Ok(String::new());
    }
    let date = value
        .as_str()
        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                "the date filter takes a date like 2027-03-03",
            )
        })?;
    Ok(format_date(date, locale(state)))
}

/// `{{ balance|points }}`: a number of points with the right noun; nothing for `none`.
pub(super) fn points(state: &State, value: Value) -> Result<String, Error> {
    if absent(&value) {
        return Ok(String::new());
    }
    let count = i64::try_from(value).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "the points filter takes a whole number",
        )
    })?;
    Ok(points_label(count, locale(state)))
}

const ARABIC_MONTHS: [&str; 12] = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
];

/// "3 March 2027" / "3 مارس 2027". Digits stay Western in both, like every other number in
/// the mail ("numbers plain").
pub(super) fn format_date(date: NaiveDate, locale: Locale) -> String {
    use chrono::Datelike;
    match locale {
        Locale::En => date.format("%-d %B %Y").to_string(),
        Locale::Ar => {
            let month = usize::try_from(date.month0())
                .ok()
                .and_then(|i| ARABIC_MONTHS.get(i))
                .copied()
                .unwrap_or_default();
            format!("{} {month} {}", date.day(), date.year())
        }
    }
}

/// The count with its noun. Arabic follows the CLDR plural categories: one and two have their
/// own words, 3–10 (mod 100) take the plural, everything else the singular accusative.
pub(super) fn points_label(count: i64, locale: Locale) -> String {
    match locale {
        Locale::En if count == 1 => "1 point".to_owned(),
        Locale::En => format!("{count} points"),
        Locale::Ar => match count {
            1 => "نقطة واحدة".to_owned(),
            2 => "نقطتين".to_owned(),
            n if (3..=10).contains(&(n.unsigned_abs() % 100)) => format!("{n} نقاط"),
            n => format!("{n} نقطة"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let date = NaiveDate::from_ymd_opt(2027, 3, 3).unwrap();
        assert_eq!(format_date(date, Locale::En), "3 March 2027");
        assert_eq!(format_date(date, Locale::Ar), "3 مارس 2027");
        let december = NaiveDate::from_ymd_opt(2026, 12, 14).unwrap();
        assert_eq!(format_date(december, Locale::Ar), "14 ديسمبر 2026");
    }

    #[test]
    fn points_take_the_right_noun() {
        assert_eq!(points_label(1, Locale::En), "1 point");
        assert_eq!(points_label(0, Locale::En), "0 points");
        assert_eq!(points_label(45, Locale::En), "45 points");
        assert_eq!(points_label(1, Locale::Ar), "نقطة واحدة");
        assert_eq!(points_label(2, Locale::Ar), "نقطتين");
        assert_eq!(points_label(5, Locale::Ar), "5 نقاط");
        assert_eq!(points_label(103, Locale::Ar), "103 نقاط");
        assert_eq!(points_label(45, Locale::Ar), "45 نقطة");
        assert_eq!(points_label(100, Locale::Ar), "100 نقطة");
    }
}
