//! Money as platforms send it: `Currency::parse`, `parse_decimal_minor` and `parse_amount`.
//!
//! Input layout: `CODE:amount` (e.g. `USD:199.00`); without a colon the whole input is the
//! amount, read in every listed exponent (0 to 4) and in a few absurd ones.

#![no_main]

use boomerang::domain::money::{parse_decimal_minor, Currency, Money, MoneyError};
use libfuzzer_sys::fuzz_target;

/// Independent reading of the grammar `parse_decimal_minor` documents, for accepted inputs.
fn well_formed(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn check(s: &str, exponent: u8) {
    let Ok(minor) = parse_decimal_minor(s, exponent) else {
        return;
    };
    assert!(well_formed(s), "accepted {s:?}");
    // Formatting only knows the exponents of real currencies.
    if exponent <= 4 {
        let text = Money::new(minor).to_decimal_string(exponent);
        assert_eq!(
            parse_decimal_minor(&text, exponent),
            Ok(minor),
            "{s:?} -> {minor} -> {text:?}"
        );
        // The value is the input's: the canonical text, less sign and zero padding, is in it.
        let digits = |t: &str| -> String {
            let t = t.trim_start_matches(['-', '+']);
            let (int, frac) = t.split_once('.').unwrap_or((t, ""));
            let int = int.trim_start_matches('0');
            let frac = frac.trim_end_matches('0');
            format!("{int}.{frac}")
        };
        assert_eq!(digits(s), digits(&text), "{s:?} read as {text:?}");
        assert_eq!(minor < 0, text.starts_with('-'));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.split_once(':') {
        Some((code, amount)) => {
            let Ok(currency) = Currency::parse(code) else {
                return;
            };
            assert_eq!(currency.code.len(), 3);
            assert!(currency.code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(currency.exponent <= 4);
            assert!(currency.minor_per_unit() > 0);
            match currency.parse_amount(amount) {
                Ok(money) => {
                    assert_eq!(
                        parse_decimal_minor(amount, currency.exponent),
                        Ok(money.minor)
                    );
                    check(amount, currency.exponent);
                }
                Err(e) => {
                    let _ = e.to_string();
                    assert!(!matches!(e, MoneyError::InvalidCurrency(_)));
                }
            }
        }
        None => {
            for exponent in [0, 1, 2, 3, 4, 18, 19, 20, 38, 39, 255] {
                check(text, exponent);
            }
        }
    }
});
