//! Reading BigCommerce's field formats: four-place decimal amounts (strings, or numbers in v3),
//! RFC 2822 dates, ids where 0 means none.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::event::PlatformId;
use crate::domain::money::{parse_decimal_minor, Currency, Money};
use crate::platform::shopify::payload::json::{Obj, Result};

/// An amount rounded half away from zero to the currency's minor unit; `None` when absent.
pub(super) fn opt_amount(o: &Obj<'_>, key: &str, shop: &Currency) -> Result<Option<Money>> {
    let text = match o.get(key) {
        None => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        // v3 refunds write amounts as JSON numbers.
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(o.invalid(key, "is not a decimal amount".to_owned())),
    };
    rounded_minor(&text, shop.exponent)
        .map(|minor| Some(Money::new(minor)))
        .map_err(|why| o.invalid(key, why))
}

pub(super) fn amount(o: &Obj<'_>, key: &str, shop: &Currency) -> Result<Money> {
    opt_amount(o, key, shop)?.ok_or_else(|| o.invalid(key, "is missing".to_owned()))
}

/// Minor units of a decimal with up to four places beyond the currency's exponent.
pub(super) fn rounded_minor(text: &str, exponent: u8) -> std::result::Result<i64, String> {
    const EXTRA_PLACES: u8 = 4;
    let fine = parse_decimal_minor(text, exponent + EXTRA_PLACES).map_err(|e| e.to_string())?;
    let scale = 10i64.pow(u32::from(EXTRA_PLACES));
    let half = if fine < 0 { -scale / 2 } else { scale / 2 };
    Ok(fine.saturating_add(half) / scale)
}

pub(super) fn add(sum: Money, more: Money, at: &Obj<'_>, key: &str) -> Result<Money> {
    sum.checked_add(more)
        .ok_or_else(|| at.invalid(key, "amounts add up beyond 64 bits".to_owned()))
}

/// An RFC 2822 time (`Tue, 20 Nov 2012 00:00:00 +0000`); RFC 3339 (v3) is accepted too.
pub(super) fn opt_date(o: &Obj<'_>, key: &str) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = o.opt_str(key)?.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc2822(text)
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            o.invalid(
                key,
                format!("{text:?} is not a date like \"Tue, 20 Nov 2012 00:00:00 +0000\""),
            )
        })
}

/// An id where BigCommerce writes 0 for "none" (a guest, a custom product).
pub(super) fn opt_nonzero_id(o: &Obj<'_>, key: &str) -> Result<Option<PlatformId>> {
    Ok(o.opt_id(key)?.filter(|id| id.as_u64() != 0))
}

pub(super) fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
