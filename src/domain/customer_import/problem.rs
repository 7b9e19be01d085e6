//! Why a row of a customer import was refused, as data: the API answers it in English with a
//! stable code, the admin page in the owner's language (the texts `imp_{code}`, filled in with
//! [`RowProblem::args`]).

use crate::domain::points::MAX_BALANCE;

/// One refused row's reason; the English words are the `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("the row is not UTF-8 text (export the file as CSV UTF-8)")]
    NotUtf8,
    #[error("customer_id {0:?} is not a platform id")]
    BadCustomerId(String),
    #[error("email {0:?} is not an e-mail address")]
    BadEmail(String),
    #[error("the row has neither a customer_id nor an email")]
    NoCustomer,
    #[error("points {0:?} is not a whole number")]
    PointsNotWhole(String),
    #[error("points {0:?} must be 0–{max}", max = MAX_BALANCE)]
    PointsOutOfRange(String),
    #[error("tier {0:?}: the program has no tiers")]
    NoTiers(String),
    #[error("tier {value:?} is not one of {}", known.join(", "))]
    UnknownTier { value: String, known: Vec<String> },
    #[error("birthday {0:?} is not a date (YYYY-MM-DD)")]
    BadBirthday(String),
    #[error("this customer's data was erased on the platform's request; nothing imported")]
    Erased,
    #[error("a credit of {credit} points would take this member past the limit of {max} points (they have {held}, {lifetime} earned in all)", max = MAX_BALANCE)]
    BalanceLimit {
        /// Spendable and pending points before the row.
        held: i64,
        lifetime: i64,
        credit: i64,
    },
}

impl RowProblem {
    /// Every code [`RowProblem::code`] answers (the texts table must name each).
    pub const CODES: [&'static str; 11] = [
        "not_utf8",
        "bad_customer_id",
        "bad_email",
        "no_customer",
        "points_not_whole",
        "points_out_of_range",
        "no_tiers",
        "unknown_tier",
        "bad_birthday",
        "erased",
        "balance_limit",
    ];

    /// A stable name for the reason, for clients that act on it and for the page's texts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotUtf8 => "not_utf8",
            Self::BadCustomerId(_) => "bad_customer_id",
            Self::BadEmail(_) => "bad_email",
            Self::NoCustomer => "no_customer",
            Self::PointsNotWhole(_) => "points_not_whole",
            Self::PointsOutOfRange(_) => "points_out_of_range",
            Self::NoTiers(_) => "no_tiers",
            Self::UnknownTier { .. } => "unknown_tier",
            Self::BadBirthday(_) => "bad_birthday",
            Self::Erased => "erased",
            Self::BalanceLimit { .. } => "balance_limit",
        }
    }

    /// The details a text about this reason fills in (`{value}`, `{max}`, …).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::NotUtf8 | Self::NoCustomer | Self::Erased => Vec::new(),
            Self::BadCustomerId(value)
            | Self::BadEmail(value)
            | Self::PointsNotWhole(value)
            | Self::NoTiers(value)
            | Self::BadBirthday(value) => vec![("value", value.clone())],
            Self::PointsOutOfRange(value) => {
                vec![("value", value.clone()), ("max", MAX_BALANCE.to_string())]
            }
            Self::UnknownTier { value, known } => {
                vec![("value", value.clone()), ("known", known.join(", "))]
            }
            Self::BalanceLimit {
                held,
                lifetime,
                credit,
            } => vec![
                ("held", held.to_string()),
                ("lifetime", lifetime.to_string()),
                ("credit", credit.to_string()),
                ("max", MAX_BALANCE.to_string()),
            ],
        }
    }

    /// One example of every reason (tests check each has its texts).
    pub fn examples() -> Vec<Self> {
        vec![
            Self::NotUtf8,
            Self::BadCustomerId("abc".into()),
            Self::BadEmail("not-an-email".into()),
            Self::NoCustomer,
            Self::PointsNotWhole("12.5".into()),
            Self::PointsOutOfRange("-3".into()),
            Self::NoTiers("gold".into()),
            Self::UnknownTier {
                value: "platinum".into(),
                known: vec!["silver".into(), "gold".into()],
            },
            Self::BadBirthday("28/02/1990".into()),
            Self::Erased,
            Self::BalanceLimit {
                held: 5,
                lifetime: 7,
                credit: 9,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_listed_code() {
        let codes: Vec<&str> = RowProblem::examples()
            .iter()
            .map(RowProblem::code)
            .collect();
        assert_eq!(codes, RowProblem::CODES);
    }
}
