//! Money as integer minor units, and exact parsing of the decimal strings platforms send.
//!
//! Why integers: points are awarded per whole unit of currency and reversed by exact shares, so
//! every amount must add up to the cent. A binary float cannot hold `0.10` exactly, so amounts are
//! never parsed through `f64`; `parse_decimal_minor` reads the decimal digits themselves.
//!
//! Why an exponent per currency: "100" means one hundred yen but one hundred dollars, and the
//! minor unit of a yen is the yen itself (exponent 0) while a Kuwaiti dinar has 1000 fils
//! (exponent 3). An amount is only meaningful together with its currency's exponent.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a currency code or an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The amount was an empty string.
    #[error("empty amount")]
    Empty,
    /// The amount had no digits at all (e.g. "-" or ".").
    #[error("amount {0:?} has no digits")]
    NoDigits(String),
    /// The amount used exponent notation, which we refuse rather than guess at.
    #[error("amount {0:?} uses exponent notation")]
    ExponentNotation(String),
    /// A character that is not a digit, a leading sign or one decimal point.
    #[error("amount {input:?} has an unexpected character {found:?}")]
    InvalidCharacter {
        /// The whole input.
        input: String,
        /// The first offending character.
        found: char,
    },
    /// More fractional digits than the currency has, and they are not all zeros.
    #[error("amount {input:?} has more than {exponent} decimal places")]
    TooPrecise {
        /// The whole input.
        input: String,
        /// The currency's number of decimal places.
        exponent: u8,
    },
    /// The amount does not fit in 64-bit minor units.
    #[error("amount {0:?} is too large")]
    Overflow(String),
    /// Not a three-letter ISO 4217 code.
    #[error("currency code {0:?} is not three ASCII letters")]
    InvalidCurrency(String),
}

/// An ISO 4217 currency: its upper-case code and how many decimal places its minor unit has.
/// Serialised as its code alone; reading it back looks the exponent up again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    /// Upper-case ISO 4217 code, e.g. `USD`.
    pub code: String,
    /// Decimal places of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD.
    pub exponent: u8,
}

/// Currencies whose minor unit is the major unit (ISO 4217 exponent 0).
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
/// Currencies with three decimal places.
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
/// Currencies with four decimal places (units of account, rare in shops).
const EXPONENT_4: &[&str] = &["CLF", "UYW"];

impl Currency {
    /// Reads a three-letter code (any case, surrounding spaces ignored) and looks up its
    /// exponent; codes we do not list get the common exponent 2.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let code = code.trim();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(MoneyError::InvalidCurrency(code.to_owned()));
        }
        let code = code.to_ascii_uppercase();
        let exponent = minor_unit_exponent(&code);
        Ok(Self { code, exponent })
    }

    /// Parses a decimal amount in this currency into minor units.
    pub fn parse_amount(&self, s: &str) -> Result<Money, MoneyError> {
        parse_decimal_minor(s, self.exponent).map(Money::new)
    }

    /// How many minor units make one whole unit (10^exponent; saturating for a hand-built
    /// `Currency` with an exponent no real currency has).
    pub fn minor_per_unit(&self) -> i64 {
        10i64.saturating_pow(u32::from(self.exponent))
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// The ISO 4217 exponent of an upper-case code (2 when the code is not one we list as different).
pub fn minor_unit_exponent(code: &str) -> u8 {
    if EXPONENT_0.contains(&code) {
        0
    } else if EXPONENT_3.contains(&code) {
        3
    } else if EXPONENT_4.contains(&code) {
        4
    } else {
        2
    }
}

/// An amount in minor units of a currency the context knows (for orders: the shop's currency).
/// Serialised as a bare integer so stored snapshots stay small and exact.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money {
    /// Minor units (cents for USD).
    pub minor: i64,
}

impl Money {
    /// Zero in any currency.
    pub const ZERO: Money = Money { minor: 0 };

    /// Wraps a number of minor units.
    pub const fn new(minor: i64) -> Self {
        Self { minor }
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.minor.checked_add(other.minor).map(Money::new)
    }

    /// Difference, or `None` on overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.minor.checked_sub(other.minor).map(Money::new)
    }

    /// Sum, clamped at the bounds of `i64`.
    pub fn saturating_add(self, other: Money) -> Money {
        Money::new(self.minor.saturating_add(other.minor))
    }

    /// Formats with `exponent` decimal places, e.g. `199.00` (for messages and tests).
    pub fn to_decimal_string(self, exponent: u8) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let width = usize::from(exponent);
        // Past 10^19 a unit is more than any u64: the whole amount is fraction.
        let (whole, fraction) = 10u64
            .checked_pow(u32::from(exponent))
            .map_or((0, abs), |unit| (abs / unit, abs % unit));
        format!("{sign}{whole}.{fraction:0width$}")
    }
}

/// Parses a decimal string such as `"199.00"`, `"5"`, `"0.5"` or `"-3.20"` into minor units of a
/// currency with `exponent` decimal places, exactly.
///
/// Accepts an optional leading `+`/`-`, digits, and at most one `.`. Refuses empty input,
/// exponent notation, any other character (including spaces), more fractional digits than the
/// exponent unless the extra ones are zeros (`"1.230"` is fine for USD, `"1.234"` is not), and
/// anything that does not fit in `i64` minor units.
pub fn parse_decimal_minor(s: &str, exponent: u8) -> Result<i64, MoneyError> {
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.contains(['e', 'E']) {
        return Err(MoneyError::ExponentNotation(s.to_owned()));
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if let Some(found) = int_part
        .chars()
        .chain(frac_part.chars())
        .find(|c| !c.is_ascii_digit())
    {
        return Err(MoneyError::InvalidCharacter {
            input: s.to_owned(),
            found,
        });
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(MoneyError::NoDigits(s.to_owned()));
    }
    let places = usize::from(exponent);
    let (kept, extra) = frac_part.split_at(frac_part.len().min(places));
    if extra.bytes().any(|b| b != b'0') {
        return Err(MoneyError::TooPrecise {
            input: s.to_owned(),
            exponent,
        });
    }
    let overflow = || MoneyError::Overflow(s.to_owned());
    // One more than i64::MAX so that i64::MIN can be written.
    let limit = i128::from(i64::MAX) + 1;
    let padding = std::iter::repeat_n(b'0', places - kept.len());
    let mut value: i128 = 0;
    for digit in int_part.bytes().chain(kept.bytes()).chain(padding) {
        value = value * 10 + i128::from(digit - b'0');
        if value > limit {
            return Err(overflow());
        }
    }
    let signed = if negative { -value } else { value };
    i64::try_from(signed).map_err(|_| overflow())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(parse_decimal_minor("199.00", 2), Ok(19_900));
        assert_eq!(parse_decimal_minor("5", 2), Ok(500));
        assert_eq!(parse_decimal_minor("0.5", 2), Ok(50));
        assert_eq!(parse_decimal_minor("-3.20", 2), Ok(-320));
        assert_eq!(parse_decimal_minor("+3.2", 2), Ok(320));
        assert_eq!(parse_decimal_minor(".5", 2), Ok(50));
        assert_eq!(parse_decimal_minor("5.", 2), Ok(500));
        assert_eq!(parse_decimal_minor("-0", 2), Ok(0));
        assert_eq!(parse_decimal_minor("007.10", 2), Ok(710));
        assert_eq!(parse_decimal_minor("0.0", 2), Ok(0));
    }

    #[test]
    fn respects_the_exponent() {
        assert_eq!(parse_decimal_minor("1500", 0), Ok(1500));
        assert_eq!(parse_decimal_minor("1500.00", 0), Ok(1500));
        assert_eq!(parse_decimal_minor("1.234", 3), Ok(1234));
        assert_eq!(parse_decimal_minor("1.2", 3), Ok(1200));
        assert_eq!(parse_decimal_minor("1.230", 2), Ok(123));
        assert!(matches!(
            parse_decimal_minor("1.5", 0),
            Err(MoneyError::TooPrecise { exponent: 0, .. })
        ));
        assert!(matches!(
            parse_decimal_minor("1.234", 2),
            Err(MoneyError::TooPrecise { .. })
        ));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_decimal_minor("", 2), Err(MoneyError::Empty));
        for bad in ["-", ".", "+", "-."] {
            assert!(
                matches!(parse_decimal_minor(bad, 2), Err(MoneyError::NoDigits(_))),
                "{bad}"
            );
        }
        for bad in ["1e5", "1E5", "1.5e-3"] {
            assert!(matches!(
                parse_decimal_minor(bad, 2),
                Err(MoneyError::ExponentNotation(_))
            ));
        }
        for bad in [
            " 5", "5 ", "1,00", "1.2.3", "--1", "0x10", "١٢", "NaN", "-+1",
        ] {
            assert!(
                matches!(
                    parse_decimal_minor(bad, 2),
                    Err(MoneyError::InvalidCharacter { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn detects_overflow_at_the_edges() {
        assert_eq!(parse_decimal_minor("92233720368547758.07", 2), Ok(i64::MAX));
        assert_eq!(
            parse_decimal_minor("-92233720368547758.08", 2),
            Ok(i64::MIN)
        );
        assert!(matches!(
            parse_decimal_minor("92233720368547758.08", 2),
            Err(MoneyError::Overflow(_))
        ));
        assert!(matches!(
            parse_decimal_minor("99999999999999999999999999999999999999999", 0),
            Err(MoneyError::Overflow(_))
        ));
        assert_eq!(
            parse_decimal_minor("000000000000000000000000000000000001", 2),
            Ok(100)
        );
    }

    #[test]
    fn knows_currency_exponents() {
        let cases = [
            ("usd", "USD", 2),
            ("JPY", "JPY", 0),
            ("KRW", "KRW", 0),
            ("CLP", "CLP", 0),
            ("ISK", "ISK", 0),
            ("VND", "VND", 0),
            ("XAF", "XAF", 0),
            ("XOF", "XOF", 0),
            ("BHD", "BHD", 3),
            ("KWD", "KWD", 3),
            ("OMR", "OMR", 3),
            ("JOD", "JOD", 3),
            ("TND", "TND", 3),
            ("IQD", "IQD", 3),
            ("LYD", "LYD", 3),
            (" eur ", "EUR", 2),
            ("AED", "AED", 2),
            ("CLF", "CLF", 4),
        ];
        for (input, code, exponent) in cases {
            let c = Currency::parse(input).unwrap();
            assert_eq!((c.code.as_str(), c.exponent), (code, exponent), "{input}");
        }
        for bad in ["", "US", "USDT", "U$D", "12A"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currency_parses_amounts_and_money_formats() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.parse_amount("1200"), Ok(Money::new(1200)));
        assert_eq!(jpy.minor_per_unit(), 1);
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.minor_per_unit(), 1000);
        assert_eq!(Money::new(19_900).to_decimal_string(2), "199.00");
        assert_eq!(Money::new(-5).to_decimal_string(2), "-0.05");
        assert_eq!(Money::new(1234).to_decimal_string(3), "1.234");
        assert_eq!(Money::new(77).to_decimal_string(0), "77");
        assert_eq!(
            Money::new(-77).to_decimal_string(20),
            "-0.00000000000000000077"
        );
        assert_eq!(
            Money::new(i64::MIN).to_decimal_string(2),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn currency_serialises_as_its_code() {
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(serde_json::to_string(&jpy).unwrap(), "\"JPY\"");
        assert_eq!(
            serde_json::from_str::<Currency>("\"kwd\"")
                .unwrap()
                .exponent,
            3
        );
        assert!(serde_json::from_str::<Currency>("\"dollars\"").is_err());
    }

    #[test]
    fn money_serialises_as_an_integer() {
        assert_eq!(serde_json::to_string(&Money::new(1999)).unwrap(), "1999");
        assert_eq!(serde_json::from_str::<Money>("-5").unwrap(), Money::new(-5));
        assert!(Money::new(1) < Money::new(2));
        assert_eq!(Money::new(i64::MAX).checked_add(Money::new(1)), None);
        assert_eq!(
            Money::new(i64::MAX).saturating_add(Money::new(1)).minor,
            i64::MAX
        );
        assert_eq!(
            Money::new(3).checked_sub(Money::new(5)),
            Some(Money::new(-2))
        );
    }

    proptest::proptest! {
        #[test]
        fn formatting_round_trips(minor in proptest::num::i64::ANY, exponent in 0u8..=4) {
            let text = Money::new(minor).to_decimal_string(exponent);
            proptest::prop_assert_eq!(parse_decimal_minor(&text, exponent), Ok(minor));
        }
    }
}
