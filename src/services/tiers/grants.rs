//! Paid memberships: an order containing a membership product grants its tier for `days` from
//! the order's date; cancelling the order or refunding the membership line revokes the grant.
//! One grant per (order, membership), so replays and reconciliation never extend it.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::models::{Order, Refund, Shop};
use crate::db::schema::tier_grants;
use crate::db::{new_id, DbConnection};
use crate::domain::calendar;
use crate::domain::event::{OrderFacts, RefundFacts};
use crate::domain::tiers::{Grant, Membership};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tier_grants)]
struct NewGrant {
    id: String,
    shop_id: String,
    member_id: String,
    membership_id: String,
    tier: String,
    platform_order_id: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    revoked_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// Units of each order line refunded so far.
fn refunded_units(refunds: &[Refund], line_id: &str) -> i64 {
    refunds
        .iter()
        .filter_map(|r| serde_json::from_str::<RefundFacts>(&r.facts).ok())
        .flat_map(|f| f.lines)
        .filter(|l| l.line_item_id.as_str() == line_id)
        .map(|l| l.quantity)
        .sum()
}

/// Grants or revokes the memberships `order` buys. `eligible`: the order is paid and not a
/// test. Returns whether any grant changed (the member must be re-evaluated).
pub fn sync_order(
    conn: &mut DbConnection,
    shop: &Shop,
    memberships: &[Membership],
    order: &Order,
    eligible: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(member_id) = &order.member_id else {
        return Ok(false);
    };
    if memberships.is_empty() {
        return Ok(false);
    }
    // A redacted order's snapshot is `{}`: nothing to grant from any more.
    let Ok(facts) = serde_json::from_str::<OrderFacts>(&order.snapshot) else {
        return Ok(false);
    };
    let refunds = Refund::for_order(conn, &shop.id, &order.platform_order_id)?;
    let mut changed = false;
    for m in memberships {
        let Some(line) = facts.lines.iter().find(|l| {
            l.product_id
                .as_ref()
                .is_some_and(|p| p.as_str() == m.product_id)
        }) else {
            continue;
        };
        let refunded = refunded_units(&refunds, line.line_id.as_str()) >= line.quantity.max(1);
        let stands = eligible && !order.cancelled && !refunded;
        let existing = tier_grants::table
            .filter(tier_grants::shop_id.eq(&shop.id))
            .filter(tier_grants::platform_order_id.eq(&order.platform_order_id))
            .filter(tier_grants::membership_id.eq(&m.id))
            .select((tier_grants::id, tier_grants::revoked_at))
            .first::<(String, Option<NaiveDateTime>)>(conn)
            .optional()?;
        match existing {
            None if stands => {
                let starts_on =
                    calendar::local_date(calendar::zone(&shop.timezone), order.placed_at);
                let ends_on = starts_on + Duration::days(i64::from(m.days));
                crate::per_backend!(&mut *conn, |c| diesel::insert_into(tier_grants::table)
                    .values(NewGrant {
                        id: new_id(),
                        shop_id: shop.id.clone(),
                        member_id: member_id.clone(),
                        membership_id: m.id.clone(),
                        tier: m.tier.clone(),
                        platform_order_id: order.platform_order_id.clone(),
                        starts_on,
                        ends_on,
                        revoked_at: None,
                        created_at: now,
                    })
                    .on_conflict_do_nothing()
                    .execute(c))?;
                changed = true;
            }
            Some((id, None)) if !stands => {
                diesel::update(tier_grants::table.find(&id))
                    .set(tier_grants::revoked_at.eq(Some(now)))
                    .execute(conn)?;
                changed = true;
            }
            _ => {}
        }
    }
    Ok(changed)
}

/// The live (not revoked) grants of each of `member_ids`.
pub fn of_members(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, Vec<Grant>>> {
    let rows: Vec<(String, String, NaiveDate, NaiveDate)> = tier_grants::table
        .filter(tier_grants::shop_id.eq(shop_id))
        .filter(in_list(tier_grants::member_id, member_ids))
        .filter(tier_grants::revoked_at.is_null())
        .select((
            tier_grants::member_id,
            tier_grants::tier,
            tier_grants::starts_on,
            tier_grants::ends_on,
        ))
        .load(conn)?;
    let mut by_member: std::collections::HashMap<String, Vec<Grant>> = Default::default();
    for (member, tier, from, until) in rows {
        by_member
            .entry(member)
            .or_default()
            .push(Grant { tier, from, until });
    }
    Ok(by_member)
}
