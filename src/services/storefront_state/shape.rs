//! The shape of the widget state: what `GET {base}/state` answers, field by field.

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::services::tiers::TierView;

#[derive(Debug, Serialize)]
pub struct PendingLot {
    pub points: i64,
    /// When these points become spendable.
    pub confirms_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MemberState {
    pub customer_id: String,
    pub points_balance: i64,
    pub pending_points: i64,
    /// Pending points by the date they become spendable, soonest first.
    pub pending: Vec<PendingLot>,
    /// The contract's name for `to_next_tier` (kept for the widget).
    pub points_to_next_tier: i64,
    /// `{PUBLIC_URL}/r/{code}` when the shop runs referrals and the member has a code.
    pub referral_url: Option<String>,
    pub referral_code: Option<String>,
    /// The member's row, when there is one (a code can only be made for a stored member).
    #[serde(skip)]
    pub member_id: Option<String>,
    /// `tier`, `tier_name`, `next_tier`, `to_next_tier`, `to_keep_tier`, `tier_perks`…
    #[serde(flatten)]
    pub tier: TierView,
}

#[derive(Debug, Clone, Serialize)]
pub struct RewardState {
    pub id: String,
    /// In the shopper's language when the owner gave one.
    pub title: String,
    /// What the code gives, in the shopper's language ("5.00 USD off your order").
    pub description: String,
    /// The smallest order the code works on ("On orders of 50.00 USD or more").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    pub kind: &'static str,
    pub points_cost: i64,
    pub affordable: bool,
    /// For variable rewards: the range of points a shopper may spend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_points: Option<i64>,
    /// For variable rewards: the points that buy one unit of currency off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_per_unit: Option<i64>,
    /// Days the code stays valid once issued.
    pub expires_days: u32,
    /// Only members of this tier and higher may redeem it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// For donation and custom rewards: what the widget says once redeemed ("Thank you — your
    /// donation of 5.00 USD to Red Crescent is on its way").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct WayToEarn {
    pub kind: &'static str,
    pub title: String,
    pub points: i64,
}

#[derive(Debug, Serialize)]
pub struct HistoryLine {
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub confirms_at: Option<String>,
    pub created_at: String,
}

/// The shop's referral offer, in the shopper's language.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralOffer {
    /// What a referred friend gets ("10.00 USD off").
    pub friend_offer: String,
    /// The smallest order the friend's code works on, if any.
    pub conditions: Option<String>,
    /// What the referrer gets once the friend's order is confirmed.
    pub referrer_points: i64,
    /// Days the friend's code stays valid.
    pub expires_days: u32,
}

/// How the widget looks, from the owner's settings.
#[derive(Debug, Clone, Serialize)]
pub struct Look {
    pub accent_color: String,
    /// White or black, whichever is readable on the accent colour.
    pub accent_text_color: &'static str,
    pub position: crate::domain::widget::Position,
    pub join_url: String,
    pub login_url: String,
}

#[derive(Debug, Serialize)]
pub struct State {
    /// The language of `texts` and titles: the storefront's when the widget speaks it, else the
    /// shop's default.
    pub locale: &'static str,
    pub dir: &'static str,
    pub currency: String,
    /// Decimal places of `currency`: amounts in minor units (a spend-based tier's
    /// `to_next_tier`) are shown as `{minor / 10^exponent} {currency}`, like the rewards.
    pub currency_exponent: u8,
    pub widget: Look,
    /// Every text the widget shows, in `locale`, with the owner's wording applied (an object
    /// of key → text, serialised once per program and language).
    pub texts: SharedJson,
    pub member: Option<MemberState>,
    /// The referral offer; `null` when the shop runs no referral program.
    pub referral: Option<ReferralOffer>,
    pub rewards: Vec<RewardState>,
    pub ways_to_earn: Vec<WayToEarn>,
    pub history: Vec<HistoryLine>,
    /// Whether the widget asks the NPS question (a member with two counted orders who has not
    /// answered in 90 days).
    pub nps: NpsAsk,
}

/// The widget's NPS prompt.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NpsAsk {
    pub ask: bool,
}

/// JSON serialised once and shared by every response that embeds it.
#[derive(Debug, Clone)]
pub struct SharedJson(pub(super) Arc<RawValue>);

impl Serialize for SharedJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
