//! A redemption's code: the pending row with a fresh code, whether bought or given, and the
//! platform request that creates the code.

use chrono::{Duration, NaiveDateTime};
use rand::rngs::OsRng;

use crate::db::models::{Redemption, Shop};
use crate::db::new_id;
use crate::db::types::RedemptionStatus;
use crate::domain::money::Currency;
use crate::domain::rewards::{discount_code, Reward, RewardKind};
use crate::platform::{Audience, DiscountRequest, DiscountValue};
use crate::services::program::Program;

/// A pending redemption of `reward` for `points` (none for a reward given), with a new code and
/// the reward as it is now, so later catalog edits change nothing.
pub(super) fn new_redemption(
    shop: &Shop,
    program: &Program,
    member_id: &str,
    reward: &Reward,
    points: i64,
    at: NaiveDateTime,
) -> Result<Redemption, serde_json::Error> {
    let prefix = program.code_prefix.clone().unwrap_or_else(|| "RWD".into());
    Ok(Redemption {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member_id.to_owned(),
        reward_id: reward.id.clone(),
        reward: serde_json::to_string(reward)?,
        points,
        code: discount_code(&prefix, &mut OsRng),
        status: RedemptionStatus::Pending,
        platform_discount_id: None,
        error: None,
        expires_at: at + Duration::days(i64::from(reward.expires_days)),
        created_at: at,
        updated_at: at,
    })
}

/// The title a bought code carries in the shop's admin.
pub(super) fn bought_title(reward: &Reward, points: i64) -> String {
    format!("{} ({points} points)", reward.title)
}

/// The platform request for a redemption's code, titled `title` in the shop's admin; `None`
/// for a reward that gives no code (donation, custom: the owner fulfils those).
pub(super) fn request(
    shop: &Shop,
    customer_id: &str,
    redemption: &Redemption,
    reward: &Reward,
    title: String,
) -> Option<DiscountRequest> {
    let currency = Currency::parse(&shop.currency).unwrap_or_else(|_| Currency {
        code: shop.currency.clone(),
        exponent: 2,
    });
    let decimal =
        |minor: i64| crate::domain::money::Money::new(minor).to_decimal_string(currency.exponent);
    let value = match &reward.kind {
        RewardKind::Percent { percent } => DiscountValue::Percent(*percent),
        RewardKind::FreeShipping { max_shipping_minor } => DiscountValue::FreeShipping {
            max_shipping: max_shipping_minor.map(decimal),
        },
        RewardKind::FreeProduct { variant_id } => DiscountValue::FreeVariant(variant_id.clone()),
        RewardKind::FixedAmount { .. } | RewardKind::Variable { .. } => {
            // A reward given spent no points but is worth what it would have cost.
            let worth = match redemption.points {
                0 => reward.granted_points(),
                spent => spent,
            };
            let off = reward
                .amount_off(worth, currency.minor_per_unit())
                .map(|m| m.minor)
                .unwrap_or(0);
            DiscountValue::Amount(decimal(off))
        }
        RewardKind::Donation { .. } | RewardKind::Custom { .. } => return None,
    };
    Some(DiscountRequest {
        code: redemption.code.clone(),
        title,
        audience: Audience::Customer(customer_id.to_owned()),
        value,
        min_subtotal: reward.min_order_minor.map(decimal),
        starts_at: redemption.created_at.and_utc(),
        ends_at: Some(redemption.expires_at.and_utc()),
        // A reward is one discount on one order of its member.
        usage_limit: Some(1),
        once_per_customer: true,
    })
}
