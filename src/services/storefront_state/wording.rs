//! What the widget says about the shop: rewards and ways to earn, in the shopper's language,
//! with amounts in the shop's currency.

use crate::db::models::Shop;
use crate::domain::money::{Currency, Money};
use crate::domain::rewards::{Reward, RewardKind};
use crate::domain::widget::fill;
use crate::services::program::Program;

use super::WayToEarn;

/// Amounts in the shop's currency as the widget shows them: "5.00 USD".
pub(super) struct MoneyFormat {
    pub(super) currency: Currency,
}

impl MoneyFormat {
    pub(super) fn of(shop: &Shop) -> Self {
        let currency = Currency::parse(&shop.currency).unwrap_or_else(|_| Currency {
            code: shop.currency.clone(),
            exponent: 2,
        });
        Self { currency }
    }

    pub(super) fn format(&self, minor: i64) -> String {
        format!(
            "{} {}",
            Money::new(minor).to_decimal_string(self.currency.exponent),
            self.currency.code
        )
    }
}

pub(super) type Texts = std::collections::BTreeMap<&'static str, String>;

fn text<'a>(texts: &'a Texts, key: &str) -> &'a str {
    texts.get(key).map_or("", String::as_str)
}

/// What a reward gives, in the shopper's language.
pub(super) fn describe(reward: &Reward, texts: &Texts, money: &MoneyFormat) -> String {
    match &reward.kind {
        RewardKind::FixedAmount { amount_minor } => fill(
            text(texts, "reward_fixed_amount"),
            &[("amount", &money.format(*amount_minor))],
        ),
        RewardKind::Percent { percent } => fill(
            text(texts, "reward_percent"),
            &[("percent", &percent.to_string())],
        ),
        RewardKind::FreeShipping { .. } => text(texts, "reward_free_shipping").to_owned(),
        RewardKind::FreeProduct { .. } => text(texts, "reward_free_product").to_owned(),
        RewardKind::Variable {
            points_per_unit, ..
        } => fill(
            text(texts, "reward_variable"),
            &[
                ("n", &points_per_unit.to_string()),
                ("amount", &money.format(money.currency.minor_per_unit())),
            ],
        ),
        RewardKind::Donation {
            charity,
            amount_minor,
        } => fill(
            text(texts, "reward_donation"),
            &[
                ("amount", &money.format(*amount_minor)),
                ("charity", charity),
            ],
        ),
        // The owner's own words: what they promise to do.
        RewardKind::Custom { description } => description.clone(),
    }
}

/// What the widget shows once a reward without a code is redeemed; `None` for codes.
pub(super) fn confirmation(reward: &Reward, texts: &Texts, money: &MoneyFormat) -> Option<String> {
    match &reward.kind {
        RewardKind::Donation {
            charity,
            amount_minor,
        } => Some(fill(
            text(texts, "thanks_donation"),
            &[
                ("amount", &money.format(*amount_minor)),
                ("charity", charity),
            ],
        )),
        RewardKind::Custom { .. } => Some(text(texts, "thanks_custom").to_owned()),
        _ => None,
    }
}

pub(super) fn ways_to_earn(program: &Program, shop: &Shop, texts: &Texts) -> Vec<WayToEarn> {
    let rules = &program.earning;
    let unit = if rules.unit_size == 1 {
        shop.currency.clone()
    } else {
        format!("{} {}", rules.unit_size, shop.currency)
    };
    let per_unit = i64::from(rules.points_per_unit);
    let mut ways = vec![WayToEarn {
        kind: "order",
        title: fill(
            text(texts, "earn_order"),
            &[("n", &per_unit.to_string()), ("unit", &unit)],
        ),
        points: per_unit,
    }];
    if rules.signup_points > 0 {
        ways.push(WayToEarn {
            kind: "signup",
            title: text(texts, "earn_signup").to_owned(),
            points: rules.signup_points,
        });
    }
    if rules.birthday_points > 0 {
        ways.push(WayToEarn {
            kind: "birthday",
            title: text(texts, "earn_birthday").to_owned(),
            points: rules.birthday_points,
        });
    }
    if let Some(referrals) = program.active_referrals() {
        ways.push(WayToEarn {
            kind: "referral",
            title: text(texts, "referral").to_owned(),
            points: referrals.referrer_reward.points,
        });
    }
    if let Some(campaign) = rules.active_campaign(chrono::Utc::now()) {
        let points = per_unit.saturating_mul(i64::from(campaign.multiplier_pct)) / 100;
        ways.push(WayToEarn {
            kind: "campaign",
            title: fill(
                text(texts, "earn_campaign"),
                &[
                    ("name", &campaign.name),
                    ("n", &points.to_string()),
                    ("unit", &unit),
                ],
            ),
            points,
        });
    }
    ways
}

/// The referral offer as the widget shows it, when the shop runs a referral program.
pub(super) fn referral_offer(
    program: &Program,
    texts: &Texts,
    money: &MoneyFormat,
) -> Option<super::ReferralOffer> {
    use crate::domain::referrals::Discount;
    let referrals = program.active_referrals()?;
    let reward = &referrals.friend_reward;
    let friend_offer = match &reward.discount {
        Discount::FixedAmount { amount_minor } => fill(
            text(texts, "offer_fixed_amount"),
            &[("amount", &money.format(*amount_minor))],
        ),
        Discount::Percent { percent } => fill(
            text(texts, "offer_percent"),
            &[("percent", &percent.to_string())],
        ),
        Discount::FreeShipping => text(texts, "offer_free_shipping").to_owned(),
    };
    let conditions = reward
        .min_order_minor
        .filter(|m| *m > 0)
        .map(|min| fill(text(texts, "min_order"), &[("amount", &money.format(min))]));
    Some(super::ReferralOffer {
        friend_offer,
        conditions,
        referrer_points: referrals.referrer_reward.points,
        expires_days: reward.expires_days,
    })
}
