//! Referrals and affiliates: the records behind `domain::referrals`.
//!
//! - `codes`: a member's referral code, created the first time anyone needs it; `/r/{code}`
//!   clicks.
//! - `claim`: a friend claims the offer and gets a single-use platform code bound to
//!   (referrer, friend's mailbox); asking again returns the same code.
//! - `orders`: on every order delivery (inside the apply transaction), a paid order naming a
//!   referral becomes a pending referral with its fraud signals, and a cancellation or full
//!   refund voids an undecided one; affiliate orders are kept current the same way.
//! - `settle`: when the order's points would confirm (the confirmation job), a clean referral
//!   is approved and its referrer rewarded once; the rest wait for the owner (`decide`).
//! - `affiliates`: public multi-use codes and their commission report.

mod affiliates;
mod claim;
mod codes;
mod orders;
mod party;
mod settle;
mod views;

pub use affiliates::{create_affiliate, report, AffiliateReport, NewAffiliate};
pub use claim::{claim, Claimed};
pub(crate) use claim::{decimal, discount_value};
pub use codes::{ensure_code, member_by_code, record_click, referral_url};
pub use orders::after_order;
pub use settle::{decide, settle_due};
pub use views::{list, of_referrer, ReferralView};

use crate::db::DbError;
use crate::domain::referrals::{DecisionError, ReferralConfigError};
use crate::platform::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ReferralError {
    #[error("this shop has no referral program")]
    NotEnabled,
    #[error("no referral code {0:?} in this shop")]
    UnknownCode(String),
    #[error("{0:?} is not an e-mail address")]
    InvalidEmail(String),
    #[error("you cannot claim your own referral offer")]
    SelfReferral,
    #[error("this offer is for new customers: {0} has ordered here before")]
    ExistingCustomer(String),
    #[error("no referral {0:?} in this shop")]
    NotFound(String),
    #[error(transparent)]
    Decided(#[from] DecisionError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Config(#[from] ReferralConfigError),
    #[error("an affiliate with the code {0:?} already exists")]
    CodeTaken(String),
    #[error("the shop has not connected its store API, so no code can be created")]
    NotConnected,
    #[error("the shop could not create the code ({0})")]
    Platform(ApiError),
    #[error("the shop did not confirm the code in time; ask again in a minute")]
    Unconfirmed,
    #[error(transparent)]
    Ledger(#[from] crate::services::ledger::LedgerError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(#[from] DbError),
}
