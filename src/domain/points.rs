//! Points, ledger line kinds and statuses, and the arithmetic that keeps balances honest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
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
        Signup => "signup",
        Birthday => "birthday",
        /// A manual change by the shop owner.
        Adjustment => "adjustment",
        /// Points spent on a reward.
        Redeem => "redeem",
        /// Points given back after a failed or cancelled redemption.
        RedeemRefund => "redeem_refund",
        /// Points taken back after a refund or cancellation.
        Reversal => "reversal",
        Expiry => "expiry",
    }
}

impl LedgerKind {
    /// Whether the line counts towards lifetime points (what a member has earned, net of
    /// reversals) rather than being spending or expiry.
    pub fn counts_towards_lifetime(self) -> bool {
        matches!(
            self,
            Self::Earn | Self::Signup | Self::Birthday | Self::Adjustment | Self::Reversal
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

/// Takes up to `wanted` points from `balance` without going below zero.
/// Returns `(applied, shortfall)` with `applied + shortfall == wanted`.
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
        }
        for s in LedgerStatus::ALL {
            assert_eq!(s.to_string().parse::<LedgerStatus>(), Ok(*s));
        }
        assert!("bonus".parse::<LedgerKind>().is_err());
    }

    #[test]
    fn debits_stop_at_zero() {
        assert_eq!(apply_debit(100, 30), (30, 0));
        assert_eq!(apply_debit(100, 130), (100, 30));
        assert_eq!(apply_debit(0, 10), (0, 10));
        assert_eq!(apply_debit(50, -5), (0, 0));
    }

    proptest! {
        #[test]
        fn debit_never_overdraws(balance in 0i64..1_000_000, wanted in -10i64..2_000_000) {
            let (applied, shortfall) = apply_debit(balance, wanted);
            prop_assert!(applied >= 0 && shortfall >= 0);
            prop_assert!(balance - applied >= 0);
            prop_assert_eq!(applied + shortfall, wanted.max(0));
        }
    }
}
