//! Settling referrals when their order's points would confirm, the owner's decisions, and the
//! referrer's reward: a confirmed `referral` ledger line keyed `referral:{id}:reward`, posted
//! only by the move to `approved` (a compare-and-set), so exactly once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::orders::rewarded_this_month;
use super::ReferralError;
use crate::db::models::{Member, Order, Referral, Shop};
use crate::db::schema::referrals;
use crate::db::DbConnection;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::referrals::{
    decide as decide_status, on_order_settled, risk_score, Decision, Review, Signal, Status,
};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::program::Program;

/// Who decided a referral that settled clean under automatic review.
pub const AUTO: &str = "auto";

/// Settles the shop's pending referrals whose orders settled by `now`: void if the order was
/// cancelled or refunded in full, else approved (and rewarded) or held as flagged. Returns how
/// many moved. Call inside a write transaction.
pub fn settle_due(
    conn: &mut DbConnection,
    shop: &Shop,
    now: NaiveDateTime,
) -> Result<usize, LedgerError> {
    let due: Vec<Referral> = referrals::table
        .filter(referrals::shop_id.eq(&shop.id))
        .filter(referrals::status.eq(Status::Pending.as_str()))
        .filter(referrals::settles_at.le(now))
        .order((referrals::settles_at.asc(), referrals::id.asc()))
        .select(Referral::as_select())
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    let program = Program::of(shop);
    let (review, cap) = program
        .referrals
        .as_ref()
        .map_or((Review::Manual, None), |r| {
            (r.review, r.max_rewards_per_month)
        });
    let mut moved = 0;
    for referral in due {
        let order = Order::find_by_platform_id(conn, &shop.id, &referral.platform_order_id)?;
        let stands = order.is_some_and(|o| {
            !(o.cancelled || (o.total_minor > 0 && o.refunded_minor >= o.total_minor))
        });
        if !stands {
            moved += usize::from(Referral::transition(
                conn,
                &shop.id,
                &referral.id,
                "pending",
                "void",
                None,
                now,
            )?);
            continue;
        }
        // The cap is counted now, when the reward would be given, not when the order came.
        let mut raised: Vec<String> = serde_json::from_str(&referral.signals).unwrap_or_default();
        let over_cap = cap.is_some_and(|cap| {
            rewarded_this_month(conn, shop, &referral.referrer_member_id, now)
                .map_or(true, |n| n >= cap)
        });
        if over_cap && !raised.iter().any(|s| s == Signal::OverMonthlyCap.as_str()) {
            raised.push(Signal::OverMonthlyCap.as_str().to_owned());
            let parsed: Vec<Signal> = raised.iter().filter_map(|s| signal_named(s)).collect();
            diesel::update(
                referrals::table
                    .filter(referrals::shop_id.eq(&shop.id))
                    .filter(referrals::id.eq(&referral.id)),
            )
            .set((
                referrals::signals
                    .eq(serde_json::to_string(&raised).unwrap_or_else(|_| "[]".into())),
                referrals::risk_score.eq(i32::from(risk_score(&parsed))),
            ))
            .execute(conn)?;
        }
        let next = on_order_settled(Status::Pending, review, !raised.is_empty());
        let decided_by = (next == Status::Approved).then_some(AUTO);
        if Referral::transition(
            conn,
            &shop.id,
            &referral.id,
            "pending",
            next.as_str(),
            decided_by,
            now,
        )? {
            moved += 1;
            if next == Status::Approved {
                reward(conn, &referral, now)?;
            }
        }
    }
    Ok(moved)
}

fn signal_named(name: &str) -> Option<Signal> {
    use Signal::*;
    [
        SameCustomer,
        SameEmailNormalized,
        SameAddress,
        SamePhone,
        SameIp,
        SameCard,
        ExistingCustomer,
        BelowMinOrder,
        OverMonthlyCap,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

/// The owner approves or rejects a referral that is still open; approving rewards the
/// referrer at once. A decided referral answers `Decided` (the API's `409`).
pub fn decide(
    conn: &mut DbConnection,
    shop: &Shop,
    id: &str,
    decision: Decision,
    actor: &str,
    now: NaiveDateTime,
) -> Result<Referral, ReferralError> {
    let referral = Referral::find(conn, &shop.id, id)
        .optional()?
        .ok_or_else(|| ReferralError::NotFound(id.to_owned()))?;
    let status = Status::parse(&referral.status)
        .ok_or_else(|| ReferralError::Invalid(format!("stored status {:?}", referral.status)))?;
    let next = decide_status(status, decision)?;
    if !Referral::transition(
        conn,
        &shop.id,
        id,
        status.as_str(),
        next.as_str(),
        Some(actor),
        now,
    )? {
        // Settled or decided meanwhile: report what it is now.
        let now_status = Referral::find(conn, &shop.id, id)?.status;
        let current = Status::parse(&now_status).unwrap_or(status);
        return Err(ReferralError::Decided(
            crate::domain::referrals::DecisionError::AlreadyDecided(current),
        ));
    }
    if next == Status::Approved {
        reward(conn, &referral, now)?;
    }
    Ok(Referral::find(conn, &shop.id, id)?)
}

/// The referrer's points for an approved referral, once (the key makes a replay a no-op). A
/// referrer erased meanwhile (privacy request) gets nothing.
fn reward(
    conn: &mut DbConnection,
    referral: &Referral,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    crate::services::outgoing::referral_completed(conn, referral, now)?;
    let referrer =
        Member::find(conn, &referral.shop_id, &referral.referrer_member_id).optional()?;
    let Some(referrer) = referrer.filter(|m| m.redacted_at.is_none()) else {
        return Ok(());
    };
    if referral.reward_points <= 0 {
        return Ok(());
    }
    let order = referral
        .order_name
        .clone()
        .unwrap_or_else(|| referral.platform_order_id.clone());
    ledger::post(
        conn,
        &Posting {
            shop_id: referral.shop_id.clone(),
            member_id: referral.referrer_member_id.clone(),
            delta: referral.reward_points,
            kind: LedgerKind::Referral,
            status: LedgerStatus::Confirmed,
            reason: Some(format!("Referral: a friend's order {order}")),
            source: "referral".into(),
            source_id: referral.id.clone(),
            action: "reward".into(),
            detail: None,
            confirms_at: None,
            when_short: WhenShort::Refuse,
        },
        now,
    )?;
    let shop = Shop::find(conn, &referral.shop_id)?;
    crate::services::mail::queue(
        conn,
        &shop,
        &Program::of(&shop),
        &referrer,
        crate::domain::mail::Kind::ReferralReward,
        &format!("referral:{}", referral.id),
        serde_json::json!({ "points": referral.reward_points }),
        now,
    )?;
    Ok(())
}
