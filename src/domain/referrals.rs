//! Referrals, pure: member codes, attribution of an order to a referral, the normalisations the
//! fraud signals compare, the signals and their risk score, and a referral's life.
//!
//! Not wired to the ledger, the API or the widget yet (issue 12 builds those on top); nothing
//! here does I/O, so every rule is unit-tested on its own.

mod attribution;
mod codes;
mod life;
mod normalize;
mod signals;

pub use attribution::{attribute, landing_site_ref, Attribution, Via, CART_ATTRIBUTE};
pub use codes::{parse_code, referral_code, REFERRAL_CODE_LEN};
pub use life::{decide, on_order_settled, on_reversal, Decision, DecisionError, Review, Status};
pub use normalize::{
    card_fingerprint, ip_identity, normalized_address, normalized_email, normalized_phone,
};
pub use signals::{risk_score, signals, Context, Party, Signal};
