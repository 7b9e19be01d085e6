//! Points, ledger line kinds and statuses, and the arithmetic that keeps balances honest.
//!
//! Kinds and statuses are stored as TEXT, so each has one stable snake_case name (`as_str` /
//! `FromStr`), and a name we do not know is an error rather than a silent default: a ledger
//! line must never be misread.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A number of loyalty points: positive for credits, negative for debits.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(pub i64);

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);

    /// The bare number.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// Points are bounded by i64 in the ledger; saturating keeps arithmetic panic-free on any input.
impl Add for Points {
    type Output = Points;
    fn add(self, rhs: Points) -> Points {
        Points(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Points {
    type Output = Points;
    fn sub(self, rhs: Points) -> Points {
        Points(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Points {
    type Output = Points;
    fn neg(self) -> Points {
        Points(self.0.saturating_neg())
    }
}

impl Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, Add::add)
    }
}

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (snake_case) name.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownName(s.to_owned())) }
            }
        }
    };
}

/// A name that is not one of the enum's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

str_enum! {
    /// Why a ledger line exists.
    LedgerKind {
        /// Points for an order.
        Earn => "earn",
        /// Points for creating an account.
        Signup => "signup",
        /// Points on the member's birthday.
        Birthday => "birthday",
        /// A manual change by the shop owner.
        Adjustment => "adjustment",
        /// Points spent on a reward.
        Redeem => "redeem",
        /// Points given back after a failed or cancelled redemption.
        RedeemRefund => "redeem_refund",
        /// Points taken back after a refund or cancellation.
        Reversal => "reversal",
        /// Points that lapsed.
        Expiry => "expiry",
        /// Points for a friend's approved referral.
        Referral => "referral",
        /// A balance brought over from another loyalty program (`POST /import/customers`).
        Import => "import",
    }
}

impl LedgerKind {
    /// Whether the line counts towards lifetime points (what a member has earned, net of
    /// reversals) rather than being spending or expiry.
    pub fn counts_towards_lifetime(self) -> bool {
        matches!(
            self,
            Self::Earn
                | Self::Signup
                | Self::Birthday
                | Self::Adjustment
                | Self::Reversal
                | Self::Referral
                | Self::Import
        )
    }
}

str_enum! {
    /// Where a ledger line is in its life.
    LedgerStatus {
        /// Earned, inside the return window: visible, not spendable.
        Pending => "pending",
        /// Spendable (or spent).
        Confirmed => "confirmed",
        /// Cancelled before it took effect; counts for nothing.
        Void => "void",
    }
}

/// The most points one member can hold, spendable and pending together, and earn in a lifetime.
/// A trillion: far beyond any real program, and far enough below `i64::MAX` that a shop's
/// ledger sums (the liability report adds up every line) cannot overflow either.
pub const MAX_BALANCE: i64 = 1_000_000_000_000;

/// Whether crediting `credit` points to a total of `current` stays within [`MAX_BALANCE`]
/// (without overflowing on the way). Debits (`credit <= 0`) always fit.
pub fn credit_fits(current: i64, credit: i64) -> bool {
    credit <= 0
        || current
            .checked_add(credit)
            .is_some_and(|t| t <= MAX_BALANCE)
}

/// Takes up to `wanted` points from `balance` without going below zero.
/// Returns `(applied, shortfall)` with `applied + shortfall == max(wanted, 0)`; a negative
/// balance or a negative `wanted` applies nothing.
pub fn apply_debit(balance: i64, wanted: i64) -> (i64, i64) {
    let wanted = wanted.max(0);
    let applied = wanted.min(balance.max(0));
    (applied, wanted - applied)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn names_round_trip() {
        for k in LedgerKind::ALL {
            assert_eq!(k.as_str().parse::<LedgerKind>(), Ok(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for s in LedgerStatus::ALL {
            assert_eq!(s.to_string().parse::<LedgerStatus>(), Ok(*s));
        }
        assert_eq!(LedgerKind::RedeemRefund.as_str(), "redeem_refund");
        assert_eq!(
            "bonus".parse::<LedgerKind>(),
            Err(UnknownName("bonus".to_owned()))
        );
        assert!("Pending".parse::<LedgerStatus>().is_err());
    }

    #[test]
    fn lifetime_kinds() {
        assert!(LedgerKind::Earn.counts_towards_lifetime());
        assert!(LedgerKind::Reversal.counts_towards_lifetime());
        assert!(!LedgerKind::Redeem.counts_towards_lifetime());
        assert!(!LedgerKind::Expiry.counts_towards_lifetime());
    }

    #[test]
    fn points_arithmetic_saturates() {
        assert_eq!(Points(2) + Points(3), Points(5));
        assert_eq!(Points(2) - Points(3), Points(-1));
        assert_eq!(-Points(i64::MIN), Points(i64::MAX));
        assert_eq!(Points(i64::MAX) + Points(1), Points(i64::MAX));
        assert_eq!(
            [Points(1), Points(2)].into_iter().sum::<Points>(),
            Points(3)
        );
        assert_eq!(serde_json::to_string(&Points(42)).unwrap(), "42");
        assert_eq!(Points(7).to_string(), "7");
    }

    #[test]
    fn debits_stop_at_zero() {
        assert_eq!(apply_debit(100, 30), (30, 0));
        assert_eq!(apply_debit(100, 130), (100, 30));
        assert_eq!(apply_debit(0, 10), (0, 10));
        assert_eq!(apply_debit(50, -5), (0, 0));
        assert_eq!(apply_debit(-20, 5), (0, 5));
    }

    #[test]
    fn credits_stop_at_the_balance_limit() {
        assert!(credit_fits(0, MAX_BALANCE));
        assert!(credit_fits(MAX_BALANCE - 10, 10));
        assert!(!credit_fits(MAX_BALANCE - 10, 11));
        assert!(!credit_fits(0, i64::MAX));
        assert!(!credit_fits(i64::MAX, 1), "no overflow on the way");
        assert!(credit_fits(i64::MAX, -5), "debits always fit");
        assert!(credit_fits(i64::MIN, 0));
    }

    proptest! {
        #[test]
        fn debit_never_overdraws(balance in -10i64..1_000_000, wanted in -10i64..2_000_000) {
            let (applied, shortfall) = apply_debit(balance, wanted);
            prop_assert!(applied >= 0 && shortfall >= 0);
            prop_assert!(applied <= balance.max(0));
            prop_assert_eq!(applied + shortfall, wanted.max(0));
        }
    }
}
