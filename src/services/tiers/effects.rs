//! What a tier change sets off outside the tier itself: the platform customer tag and the
//! level's entry reward, both through the job queue so a platform outage delays them without
//! losing them or holding up the transaction that changed the tier.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::{Member, Shop};
use crate::db::DbConnection;
use crate::domain::tiers::{Change, TierProgram};

use super::{entry_rewards, tags};

/// Called inside the transaction that recorded `change`: queues the tag sync and gives the
/// entry reward of the level moved into (whatever the reason: qualifying, a membership, a
/// program edit, or a step down into a level never entered before).
pub fn tier_changed(
    conn: &mut DbConnection,
    shop: &Shop,
    tiers: &TierProgram,
    member_id: &str,
    change: &Change,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let entered = change
        .to
        .as_deref()
        .and_then(|t| tiers.level(t))
        .filter(|l| l.entry_reward_id.is_some());
    crate::services::outgoing::tier_changed(conn, &shop.id, member_id, change, now)?;
    let tagging = tags::wanted(shop, tiers);
    // Most changes of most shops need neither: no extra read for them.
    if entered.is_none() && !tagging {
        return Ok(());
    }
    let member = Member::find(conn, &shop.id, member_id)?;
    if tagging {
        tags::queue_sync(conn, shop, &member, now)?;
    }
    if let Some(level) = entered {
        entry_rewards::on_entry(conn, shop, level, &member, now)?;
    }
    Ok(())
}
