//! Referrals and affiliate orders from order deliveries, inside the transaction that applies
//! the order (so a referral exists exactly when its order does, and replays change nothing).

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::party;
use crate::db::models::{
    Affiliate, AffiliateOrder, Member, Order, Referral, ReferralClaim, Refund, Shop,
};
use crate::db::schema::{affiliate_orders, members, orders, referrals};
use crate::db::{new_id, DbConnection};
use crate::domain::calendar;
use crate::domain::event::{OrderFacts, RefundFacts};
use crate::domain::referrals::{
    attribute, normalized_email, on_reversal, risk_score, signals, Context, ReferralProgram, Status,
};
use crate::services::ledger::LedgerError;
use crate::services::program::Program;

/// After an order delivery (`facts`) or a refund (`None`: the order row is as stored).
pub fn after_order(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    order: &Order,
    facts: Option<&OrderFacts>,
    friend: Option<&Member>,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let reversed = is_reversed(order);
    if let Some(referrals_program) = &program.referrals {
        match Referral::find_by_order(conn, &shop.id, &order.platform_order_id)? {
            Some(referral) if reversed => void(conn, &referral, now)?,
            Some(_) => {}
            None => {
                let attributable = referrals_program.enabled && !reversed;
                if let (true, Some(facts)) = (attributable, facts) {
                    if counts(program, facts) {
                        refer(conn, shop, referrals_program, order, facts, friend, now)?;
                    }
                }
            }
        }
    }
    keep_affiliate_order(conn, shop, program, order, facts, now)?;
    Ok(())
}

/// Cancelled, or every penny refunded.
fn is_reversed(order: &Order) -> bool {
    order.cancelled || (order.total_minor > 0 && order.refunded_minor >= order.total_minor)
}

/// Paid, and not a test order (unless the shop earns on those).
fn counts(program: &Program, facts: &OrderFacts) -> bool {
    facts.financial_status.has_been_paid() && (!facts.test || program.earning.earn_on_test_orders)
}

fn void(conn: &mut DbConnection, referral: &Referral, now: NaiveDateTime) -> QueryResult<()> {
    let Some(status) = Status::parse(&referral.status) else {
        return Ok(());
    };
    let next = on_reversal(status);
    if next != status {
        Referral::transition(
            conn,
            &referral.shop_id,
            &referral.id,
            status.as_str(),
            next.as_str(),
            None,
            now,
        )?;
    }
    Ok(())
}

/// Makes the order's referral, if it names one: pending, with its signals.
fn refer(
    conn: &mut DbConnection,
    shop: &Shop,
    settings: &ReferralProgram,
    order: &Order,
    facts: &OrderFacts,
    friend: Option<&Member>,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let used: Vec<String> = facts
        .discount_codes
        .iter()
        .map(|c| c.trim().to_uppercase())
        .collect();
    let claim_owner = claim_owners(conn, &shop.id, &used)?;
    let attribution = attribute(
        &used,
        |code| claim_owner.get(code).cloned(),
        &facts.note_attributes,
        facts.provenance.landing_site.as_deref(),
    );
    let Some(attribution) = attribution else {
        return Ok(());
    };
    // The referrer and the friend's and referrer's orders are read below, as they stand with
    // what an applier batch holds.
    crate::services::ledger::write_held(conn)?;
    let referrer: Option<Member> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::referral_code.eq(&attribution.code))
        .filter(members::merged_into.is_null())
        .filter(members::redacted_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()?;
    let Some(referrer) = referrer else {
        return Ok(());
    };
    let friend_email = party::friend_email(facts);
    let customer_id = facts
        .customer
        .as_ref()
        .and_then(|c| c.id.as_ref())
        .map(|id| id.as_str().to_owned());
    let friend_key = match (
        friend_email.as_deref().and_then(normalized_email),
        &customer_id,
    ) {
        (Some(mailbox), _) => mailbox,
        (None, Some(id)) => format!("customer:{id}"),
        // Nobody to hold to "one referral per friend".
        (None, None) => return Ok(()),
    };
    let ordered_before = match friend {
        Some(f) => ordered_before(conn, &shop.id, &f.id, order)?,
        None => false,
    };
    let ctx = Context {
        friend_ordered_before: ordered_before,
        order_subtotal_minor: order.subtotal_minor,
        min_order_minor: settings.min_order_minor,
        rewarded_this_month: rewarded_this_month(conn, shop, &referrer.id, now)?,
        max_rewards_per_month: settings.max_rewards_per_month,
    };
    let raised = signals(
        &party::referrer(conn, &referrer)?,
        &party::friend(facts),
        &ctx,
    );
    let names: Vec<&str> = raised.iter().map(|s| s.as_str()).collect();
    let pending_days = i64::from(Program::of(shop).earning.pending_days);
    Referral {
        id: new_id(),
        shop_id: shop.id.clone(),
        referrer_member_id: referrer.id.clone(),
        friend_key,
        friend_email,
        friend_member_id: friend.map(|f| f.id.clone()),
        friend_customer_id: customer_id,
        platform_order_id: order.platform_order_id.clone(),
        order_name: order.name.clone(),
        order_subtotal_minor: order.subtotal_minor,
        via: attribution.via.as_str().to_owned(),
        status: Status::Pending.as_str().to_owned(),
        risk_score: i32::from(risk_score(&raised)),
        signals: serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()),
        reward_points: settings.referrer_reward.points,
        // The order's points would confirm then: the return window runs from its own date.
        settles_at: order.placed_at + Duration::days(pending_days),
        decided_by: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
    }
    // A friend referred before (by anyone) is not referred again: the insert does nothing.
    .insert_once(conn)?;
    Ok(())
}

/// Friend codes used at checkout → the referral code of the member they were claimed through.
fn claim_owners(
    conn: &mut DbConnection,
    shop_id: &str,
    used: &[String],
) -> QueryResult<HashMap<String, String>> {
    let claims = ReferralClaim::find_by_codes(conn, shop_id, used)?;
    let mut owners = HashMap::new();
    for claim in claims {
        let code: Option<String> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(&claim.referrer_member_id))
            .select(members::referral_code)
            .first(conn)?;
        if let Some(code) = code {
            owners.insert(claim.code, code);
        }
    }
    Ok(owners)
}

/// Whether the friend placed another order in the shop before this one (history included).
fn ordered_before(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    order: &Order,
) -> QueryResult<bool> {
    let earlier: i64 = orders::table
        .filter(orders::shop_id.eq(shop_id))
        .filter(orders::member_id.eq(member_id))
        .filter(orders::platform_order_id.ne(&order.platform_order_id))
        .filter(orders::placed_at.lt(order.placed_at))
        .count()
        .get_result(conn)?;
    Ok(earlier > 0)
}

/// The referrer's referrals approved since the start of this month (the shop's calendar).
pub(super) fn rewarded_this_month(
    conn: &mut DbConnection,
    shop: &Shop,
    referrer_id: &str,
    now: NaiveDateTime,
) -> QueryResult<u32> {
    let since = calendar::month_start_utc(calendar::zone(&shop.timezone), now);
    let n: i64 = referrals::table
        .filter(referrals::shop_id.eq(&shop.id))
        .filter(referrals::referrer_member_id.eq(referrer_id))
        .filter(referrals::status.eq(Status::Approved.as_str()))
        .filter(referrals::decided_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Keeps an affiliate's order current: attributed when a paid order used the code, its refunded
/// share updated on every later delivery or refund.
fn keep_affiliate_order(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    order: &Order,
    facts: Option<&OrderFacts>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let affiliate_id = match facts {
        // An order's codes are fixed when it is placed: one that used none is no affiliate's,
        // and the common order costs no lookup here.
        Some(facts) if facts.discount_codes.is_empty() => return Ok(()),
        Some(facts) if counts(program, facts) => {
            let used: Vec<String> = facts
                .discount_codes
                .iter()
                .map(|c| c.trim().to_uppercase())
                .collect();
            Affiliate::find_by_codes(conn, &shop.id, &used)?.map(|a| a.id)
        }
        _ => None,
    };
    let affiliate_id = match affiliate_id {
        Some(id) => id,
        None => {
            let stored: Option<String> = affiliate_orders::table
                .filter(affiliate_orders::shop_id.eq(&shop.id))
                .filter(affiliate_orders::platform_order_id.eq(&order.platform_order_id))
                .select(affiliate_orders::affiliate_id)
                .first(conn)
                .optional()?;
            match stored {
                Some(id) => id,
                None => return Ok(()),
            }
        }
    };
    let revenue = order.subtotal_minor.max(0);
    let refunded = if order.cancelled {
        revenue
    } else {
        goods_refunded(conn, &shop.id, &order.platform_order_id)?.clamp(0, revenue)
    };
    AffiliateOrder {
        shop_id: shop.id.clone(),
        platform_order_id: order.platform_order_id.clone(),
        affiliate_id,
        revenue_minor: revenue,
        refunded_minor: refunded,
        placed_on: calendar::local_date(calendar::zone(&shop.timezone), order.placed_at),
        updated_at: now,
    }
    .upsert(conn)
}

/// Money returned for goods: the refunded lines' subtotals, or for a refund without lines its
/// amount less shipping and tax (commission is on goods, like the revenue it is taken from).
fn goods_refunded(conn: &mut DbConnection, shop_id: &str, order_id: &str) -> QueryResult<i64> {
    let mut total: i64 = 0;
    for refund in Refund::for_order(conn, shop_id, order_id)? {
        let Ok(facts) = serde_json::from_str::<RefundFacts>(&refund.facts) else {
            total = total.saturating_add(refund.amount_minor);
            continue;
        };
        let goods = if facts.lines.is_empty() {
            facts.amount.minor - facts.shipping.minor - facts.tax.minor
        } else {
            facts.lines.iter().map(|l| l.subtotal.minor).sum()
        };
        total = total.saturating_add(goods.max(0));
    }
    Ok(total)
}
