//! The demo shop's program: three tiers a newcomer sees at once (Bronze, Silver, Gold on points
//! earned), a Gold-only reward, refer-a-friend (10 USD off for the friend, 500 points for the
//! referrer), and no return window. And the demo order that takes a shopper to
//! their next tier, so the upgrade can be watched in the widget.

use diesel::QueryResult;
use serde::Serialize;

use crate::db::models::{Member, Shop};
use crate::db::DbConnection;
use crate::domain::earning::EarningRules;
use crate::domain::mail::{EmailSettings, SendingPolicy};
use crate::domain::referrals::{Discount, FriendReward, ReferralProgram, ReferrerReward, Review};
use crate::domain::rewards::{default_catalog, Reward, RewardKind};
use crate::domain::tiers::{Basis, TierLevel, TierProgram, Window};
use crate::domain::widget::Locale;
use crate::services::program::Program;
use crate::services::tiers;

/// Largest demo order, in whole dollars (`POST /demo/orders` refuses more).
pub const MAX_DEMO_ORDER_DOLLARS: i64 = 10_000;

fn level(
    id: &str,
    name: &str,
    arabic: &str,
    threshold: i64,
    pct: u32,
    perks: &[&str],
) -> TierLevel {
    TierLevel {
        id: id.into(),
        name: name.into(),
        names: [(Locale::Ar, arabic.to_owned())].into(),
        threshold,
        earn_multiplier_pct: pct,
        perks: perks.iter().map(|p| (*p).to_owned()).collect(),
        entry_reward_id: None,
        // The demo shop has no store to tag customers in.
        customer_tag: None,
    }
}

/// The demo shop's program (USD): the default catalog plus a Gold-only reward, and three
/// lifetime tiers on points earned.
pub fn demo_program() -> Program {
    let mut rewards = default_catalog(100);
    rewards.push(Reward {
        id: "gold-20-off".into(),
        title: "20 off for Gold members".into(),
        titles: [(Locale::Ar, "خصم 20 لأعضاء الذهبي".to_owned())].into(),
        kind: RewardKind::FixedAmount { amount_minor: 2000 },
        points_cost: 1500,
        min_order_minor: None,
        expires_days: 30,
        tier: Some("gold".into()),
        active: true,
    });
    Program {
        earning: EarningRules {
            // No return window: a demo order must count (points and tier) while the newcomer
            // watches, not 14 days later. Real shops keep theirs, so refunds cannot be gamed.
            pending_days: 0,
            ..EarningRules::default()
        },
        rewards: Some(rewards),
        tiers: Some(TierProgram {
            basis: Basis::PointsEarned,
            window: Window::Lifetime,
            grace_days: 30,
            levels: vec![
                level(
                    "bronze",
                    "Bronze",
                    "البرونزي",
                    0,
                    100,
                    &["Points on every order"],
                ),
                level(
                    "silver",
                    "Silver",
                    "الفضي",
                    300,
                    125,
                    &["1.25 points per dollar", "Early access to sales"],
                ),
                level(
                    "gold",
                    "Gold",
                    "الذهبي",
                    900,
                    150,
                    &[
                        "1.5 points per dollar",
                        "Free shipping on every order",
                        "A Gold-only reward",
                    ],
                ),
            ],
        }),
        referrals: Some(ReferralProgram {
            enabled: true,
            friend_reward: FriendReward {
                discount: Discount::FixedAmount { amount_minor: 1000 },
                min_order_minor: Some(3000),
                expires_days: 30,
            },
            referrer_reward: ReferrerReward { points: 500 },
            min_order_minor: 3000,
            max_rewards_per_month: Some(10),
            review: Review::Auto,
        }),
        // A newcomer clicking through at night should see the mail at once.
        emails: EmailSettings {
            postal_address: Some("Boomerang demo shop, 1 Example Street, Springfield".into()),
            policy: SendingPolicy {
                quiet_hours: None,
                ..SendingPolicy::default()
            },
            ..EmailSettings::default()
        },
        ..Program::default()
    }
}

/// A demo order that reaches the shopper's next tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeOrder {
    /// The subtotal, in whole dollars.
    pub amount: i64,
    /// The tier it reaches, in the page's language.
    pub tier_name: String,
}

/// The smallest demo order that takes `member` to their next tier; `None` at the top tier, or
/// when no single demo order can (an orders-based tier more than one order away).
pub fn upgrade_order(
    conn: &mut DbConnection,
    shop: &Shop,
    member: &Member,
    locale: Locale,
) -> QueryResult<Option<UpgradeOrder>> {
    let program = Program::of(shop);
    let view = tiers::member_view(conn, shop, &program, member, locale, crate::db::now())?;
    let (Some(tier_name), Some(_)) = (view.next_tier_name, view.next_tier) else {
        return Ok(None);
    };
    let tier_pct = program
        .tier_program()
        .multiplier_pct(member.tier.as_deref());
    Ok(dollars_to_reach(
        view.to_next_tier,
        view.tier_basis,
        &program.earning,
        tier_pct,
    )
    .map(|amount| UpgradeOrder { amount, tier_name }))
}

/// Whole dollars of subtotal that add `needed` to a standing in `basis`, for a member earning
/// at `tier_pct`. Campaigns and product multipliers only add points, so this is enough with
/// them too; `None` past the demo's order limit.
fn dollars_to_reach(needed: i64, basis: Basis, rules: &EarningRules, tier_pct: u32) -> Option<i64> {
    let needed = needed.max(1);
    let dollars = match basis {
        // Points = floor(dollars / unit_size × points_per_unit × tier% / 100).
        Basis::PointsEarned => {
            let per_step = i64::from(rules.points_per_unit) * i64::from(tier_pct);
            let over = needed
                .checked_mul(100)?
                .checked_mul(i64::from(rules.unit_size.max(1)))?;
            (per_step > 0).then(|| (over + per_step - 1) / per_step)?
        }
        Basis::AmountSpent => (needed + 99) / 100,
        // One order counts once, whatever its amount.
        Basis::Orders => (needed == 1).then_some(25)?,
    };
    (1..=MAX_DEMO_ORDER_DOLLARS)
        .contains(&dollars)
        .then_some(dollars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_program_is_valid_with_three_tiers_and_no_return_window() {
        let program = demo_program();
        program.validate().unwrap();
        let tiers = program.tier_program();
        let ids: Vec<&str> = tiers.levels.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["bronze", "silver", "gold"]);
        assert_eq!(program.earning.pending_days, 0);
        assert!(program
            .catalog()
            .iter()
            .any(|r| r.tier.as_deref() == Some("gold")));
    }

    #[test]
    fn the_upgrade_order_is_the_smallest_that_reaches_the_next_tier() {
        let rules = EarningRules::default();
        // Bronze earns 1 point per dollar: 300 points need 300 dollars.
        assert_eq!(
            dollars_to_reach(300, Basis::PointsEarned, &rules, 100),
            Some(300)
        );
        // Silver earns 1.25: 250 points need 200 dollars; 251 need 201 (200.8 rounds up).
        assert_eq!(
            dollars_to_reach(250, Basis::PointsEarned, &rules, 125),
            Some(200)
        );
        assert_eq!(
            dollars_to_reach(251, Basis::PointsEarned, &rules, 125),
            Some(201)
        );
        let coarse = EarningRules {
            points_per_unit: 3,
            unit_size: 10,
            ..EarningRules::default()
        };
        // 3 points per 10 dollars: 7 points need 24 dollars (floor(24 / 10 × 3) = 7).
        assert_eq!(
            dollars_to_reach(7, Basis::PointsEarned, &coarse, 100),
            Some(24)
        );
        assert_eq!(
            dollars_to_reach(5001, Basis::AmountSpent, &rules, 100),
            Some(51)
        );
        assert_eq!(dollars_to_reach(1, Basis::Orders, &rules, 100), Some(25));
        assert_eq!(dollars_to_reach(2, Basis::Orders, &rules, 100), None);
        assert_eq!(
            dollars_to_reach(1_000_000, Basis::PointsEarned, &rules, 100),
            None
        );
        assert_eq!(dollars_to_reach(10, Basis::PointsEarned, &rules, 0), None);
    }
}
