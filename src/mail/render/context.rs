//! What a template may say: stored facts only, each optional where a kind may lack it. Also the
//! sample facts owner templates are validated against (and the demo shows).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Brand, Kind, Locale};

/// The facts of one message. Templates see every field (as `none` when absent) plus `brand`,
/// `locale`, `dir`, `kind` and `marketing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailContext {
    pub first_name: Option<String>,
    /// The occasion's points: earned, now spendable, expiring, referral reward, birthday gift.
    pub points: Option<i64>,
    /// Spendable points.
    pub balance: i64,
    /// Points earned but not spendable yet (inside an order's return window).
    pub pending_points: i64,
    pub pending: Vec<PendingLine>,
    pub expiring_on: Option<NaiveDate>,
    pub tier: Option<String>,
    pub previous_tier: Option<String>,
    pub next_tier: Option<String>,
    /// Already worded in the mail's language, e.g. "Spend 40.00 USD more to reach Gold".
    pub tier_progress: Option<String>,
    pub keep_tier_by: Option<NaiveDate>,
    pub reward_title: Option<String>,
    pub reward_code: Option<String>,
    pub reward_expires_on: Option<NaiveDate>,
    pub referral_url: Option<String>,
    /// What the referred friend gets, worded: "$10 off a first order of $30 or more".
    pub friend_offer: Option<String>,
    pub order_name: Option<String>,
    /// For `replenishment`: the product that is running low.
    pub product_title: Option<String>,
    /// The button; the shop's URL when absent. For `nps_survey`, the survey link that
    /// `?score=N` is added to.
    pub action_url: Option<String>,
    /// For `digest`: one line per held message, already worded.
    pub digest: Vec<String>,
    /// Marketing kinds only.
    pub unsubscribe_url: Option<String>,
    /// When open tracking is on: a 1×1 image at the end of the HTML.
    pub open_pixel_url: Option<String>,
}

/// Points on their way and the day they become spendable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLine {
    pub points: i64,
    pub date: NaiveDate,
}

/// A fixed day for samples, so rendered samples never change.
fn day(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

impl MailContext {
    /// Every field filled, worded in `locale`: what owner templates are checked against and
    /// what the demo shows.
    pub fn sample(locale: Locale) -> MailContext {
        let ar = locale == Locale::Ar;
        let pick = |en: &str, ar_text: &str| Some(if ar { ar_text } else { en }.to_owned());
        MailContext {
            first_name: pick("Ada", "ليلى"),
            points: Some(45),
            balance: 120,
            pending_points: 45,
            pending: day(2026, 12, 14)
                .map(|date| PendingLine { points: 45, date })
                .into_iter()
                .collect(),
            expiring_on: day(2027, 3, 3),
            tier: pick("Gold", "ذهبي"),
            previous_tier: pick("Silver", "فضي"),
            next_tier: pick("Platinum", "بلاتيني"),
            tier_progress: pick(
                "Spend 40.00 USD more to reach Platinum",
                "أنفق 40.00 USD إضافية للوصول إلى بلاتيني",
            ),
            keep_tier_by: day(2027, 1, 31),
            reward_title: pick("$5 off your next order", "خصم 5 دولارات على طلبك القادم"),
            reward_code: Some("BOOM-7K2Q".into()),
            reward_expires_on: day(2027, 1, 15),
            referral_url: Some("https://boomerang.example/r/ADA7K".into()),
            friend_offer: pick(
                "$10 off a first order of $30 or more",
                "خصم 10 دولارات على أول طلب بقيمة 30 دولارًا أو أكثر",
            ),
            order_name: Some("#1001".into()),
            product_title: pick("Cedar hand cream", "كريم اليدين بالأرز"),
            action_url: Some("https://cedar-and-sage.example/account".into()),
            digest: if ar {
                vec![
                    "حصلت على 45 نقطة من الطلب #1001".into(),
                    "انتقلت إلى مستوى ذهبي".into(),
                ]
            } else {
                vec![
                    "You earned 45 points for order #1001".into(),
                    "You moved up to Gold".into(),
                ]
            },
            unsubscribe_url: Some("https://boomerang.example/email/unsubscribe?t=sample".into()),
            open_pixel_url: Some("https://boomerang.example/email/open?t=sample".into()),
        }
    }

    /// Only what every mail of `kind` carries: the built-in templates must read well with
    /// this too, and owner templates must render with it.
    pub fn minimal(kind: Kind) -> MailContext {
        let text = |s: &str| Some(s.to_owned());
        let mut ctx = MailContext::default();
        match kind {
            Kind::Welcome | Kind::Birthday | Kind::WinBack | Kind::Replenishment => {}
            Kind::PointsEarned | Kind::ReferralReward => ctx.points = Some(45),
            Kind::PointsSpendable => {
                ctx.points = Some(45);
                ctx.balance = 45;
            }
            Kind::RewardIssued => ctx.reward_title = text("$5 off"),
            Kind::PointsExpiring => {
                ctx.points = Some(45);
                ctx.balance = 45;
                ctx.expiring_on = day(2027, 3, 3);
            }
            Kind::TierUp => ctx.tier = text("Gold"),
            Kind::TierDown => ctx.previous_tier = text("Gold"),
            Kind::TierAtRisk => {
                ctx.tier = text("Gold");
                ctx.keep_tier_by = day(2027, 1, 31);
            }
            Kind::ReferralInvite => ctx.reward_code = text("FRIEND-7K2Q"),
            Kind::NpsSurvey => ctx.action_url = text("https://boomerang.example/nps/sample"),
            Kind::Digest => ctx.digest = vec!["You earned 45 points".into()],
        }
        ctx
    }
}

impl Brand {
    /// A made-up shop with every field set, for samples and validation.
    pub fn sample() -> Brand {
        Brand {
            shop_name: "Cedar & Sage".into(),
            shop_url: "https://cedar-and-sage.example".into(),
            logo_url: Some("https://cedar-and-sage.example/logo.png".into()),
            accent_color: "#5a31f4".into(),
            postal_address: Some("12 Harbour Street, Leith EH6 6LF, United Kingdom".into()),
        }
    }
}
