//! What each topic's message says, built where the change is written. Each function is one
//! call at its change's site and costs one index probe when the shop wants no such messages.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde_json::json;

use super::publish;
use crate::db::models::{Fulfilment, Member, Redemption, Referral};
use crate::db::DbConnection;
use crate::domain::outgoing::Topic;
use crate::domain::points::LedgerStatus;
use crate::domain::tiers::Change;
use crate::services::ledger::Posting;

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A member joined the program (an account, or a guest's first order).
pub fn member_created(
    conn: &mut DbConnection,
    member: &Member,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, &member.shop_id, Topic::MemberCreated, at, |_| {
        Ok(json!({
            "customer_id": member.platform_customer_id,
            "email": member.email,
            "created_at": rfc3339(member.created_at),
        }))
    })
}

/// A ledger line was written; `before` is the member as locked before it, `applied` the delta
/// written.
pub fn points_changed(
    conn: &mut DbConnection,
    posting: &Posting,
    before: &Member,
    applied: i64,
    entry_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, &posting.shop_id, Topic::PointsChanged, at, |_| {
        let pending = posting.status == LedgerStatus::Pending;
        let lifetime = if posting.kind.counts_towards_lifetime() {
            applied
        } else {
            0
        };
        Ok(json!({
            "customer_id": before.platform_customer_id,
            "email": before.email,
            "entry_id": entry_id,
            "delta": applied,
            "kind": posting.kind.as_str(),
            "status": posting.status.as_str(),
            "reason": posting.reason,
            "points_balance": before.points_balance + if pending { 0 } else { applied },
            "pending_points": before.pending_points + if pending { applied } else { 0 },
            "lifetime_points": before.lifetime_points + lifetime,
        }))
    })
}

/// Pending points of a member became spendable (`net` moved).
pub fn points_confirmed(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    net: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, shop_id, Topic::PointsChanged, at, |c| {
        let m = Member::find(c, shop_id, member_id)?;
        Ok(json!({
            "customer_id": m.platform_customer_id,
            "email": m.email,
            "delta": 0,
            "confirmed": net,
            "kind": "confirmation",
            "status": LedgerStatus::Confirmed.as_str(),
            "points_balance": m.points_balance,
            "pending_points": m.pending_points,
            "lifetime_points": m.lifetime_points,
        }))
    })
}

/// A member moved between tiers.
pub fn tier_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    change: &Change,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, shop_id, Topic::TierChanged, at, |c| {
        let m = Member::find(c, shop_id, member_id)?;
        Ok(json!({
            "customer_id": m.platform_customer_id,
            "email": m.email,
            "from": change.from,
            "to": change.to,
            "reason": change.reason.as_str(),
        }))
    })
}

/// A bought or granted reward's code was created on the platform.
pub fn reward_issued(
    conn: &mut DbConnection,
    redemption: &Redemption,
    member: &Member,
    reward_title: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, &redemption.shop_id, Topic::RewardIssued, at, |_| {
        Ok(json!({
            "customer_id": member.platform_customer_id,
            "email": member.email,
            "redemption_id": redemption.id,
            "reward_id": redemption.reward_id,
            "reward_title": reward_title,
            "code": redemption.code,
            "points": redemption.points,
            "expires_at": rfc3339(redemption.expires_at),
        }))
    })
}

/// A donation or custom reward was bought: the points are spent and the owner fulfils it by
/// hand, so there is no code and no expiry (`code` and `expires_at` are `null`).
pub fn reward_fulfilment_opened(
    conn: &mut DbConnection,
    fulfilment: &Fulfilment,
    member: &Member,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, &fulfilment.shop_id, Topic::RewardIssued, at, |_| {
        Ok(json!({
            "customer_id": member.platform_customer_id,
            "email": member.email,
            "fulfilment_id": fulfilment.id,
            "reward_id": fulfilment.reward_id,
            "reward_title": fulfilment.reward_title,
            "reward_kind": fulfilment.kind,
            "code": null,
            "points": fulfilment.points,
            "expires_at": null,
        }))
    })
}

/// A referral was approved: the friend's order counts and the referrer is rewarded.
pub fn referral_completed(
    conn: &mut DbConnection,
    referral: &Referral,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    publish(conn, &referral.shop_id, Topic::ReferralCompleted, at, |c| {
        let referrer =
            Member::find(c, &referral.shop_id, &referral.referrer_member_id).optional()?;
        Ok(json!({
            "referral_id": referral.id,
            "referrer_customer_id": referrer.and_then(|m| m.platform_customer_id),
            "friend_email": referral.friend_email,
            "friend_customer_id": referral.friend_customer_id,
            "order_id": referral.platform_order_id,
            "reward_points": referral.reward_points,
        }))
    })
}
