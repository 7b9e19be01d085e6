//! Referrals, pure: member codes, attribution of an order to a referral, the normalisations the
//! fraud signals compare, the signals and their risk score, a referral's life and the owner's
//! settings. Nothing here does I/O, so every rule is unit-tested on its own;
//! `services::referrals` keeps the records and moves the money.

mod attribution;
mod codes;
mod config;
mod life;
mod normalize;
mod signals;

pub use attribution::{attribute, landing_site_ref, Attribution, Via, CART_ATTRIBUTE};
pub use codes::{parse_code, referral_code, REFERRAL_CODE_LEN};
pub use config::{
    Discount, FriendReward, PublicDiscount, ReferralConfigError, ReferralProgram, ReferrerReward,
    DEFAULT_EXPIRES_DAYS, MAX_EXPIRES_DAYS, MAX_MONTHLY_CAP, MAX_REFERRER_POINTS,
};
pub use life::{decide, on_order_settled, on_reversal, Decision, DecisionError, Review, Status};
pub use normalize::{
    card_fingerprint, ip_identity, normalized_address, normalized_email, normalized_phone,
};
pub use signals::{risk_score, signals, Context, Party, Signal};
