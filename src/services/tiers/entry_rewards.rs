//! A level's entry reward: the catalog reward given (no points spent) to a member who moves
//! into the level, once per member and tier, and never again within a year of the last time
//! (`domain::tiers::ENTRY_REWARD_EVERY`), so dropping out and re-qualifying earns nothing new.
//!
//! The record and the redemption are written in the transaction that changed the tier, so a
//! change is never without its reward and a reward never without its change; the code itself
//! is created by a job (`services::redeem::grant`).

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::{EntryReward, Member, Shop};
use crate::db::{new_id, DbConnection};
use crate::domain::tiers::{entry_reward_due, TierLevel};
use crate::platform::StoreApi;
use crate::services::program::Program;
use crate::services::redeem;

/// Gives `member`, who just moved into `level`, the level's entry reward if it is due.
pub(super) fn on_entry(
    conn: &mut DbConnection,
    shop: &Shop,
    level: &TierLevel,
    member: &Member,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(reward_id) = &level.entry_reward_id else {
        return Ok(());
    };
    // A code is tied to a platform customer: a guest known only by e-mail cannot use one.
    if member.platform_customer_id.is_none() || !StoreApi::issues_codes(shop) {
        return Ok(());
    }
    let last = EntryReward::find(conn, &shop.id, &member.id, &level.id)?;
    if !entry_reward_due(last.as_ref().map(|l| l.issued_at), now) {
        return Ok(());
    }
    let program = Program::of(shop);
    // Validation keeps entry rewards pointing into the catalog; an older program may not.
    let Some(reward) = program.catalog().iter().find(|r| &r.id == reward_id) else {
        tracing::warn!(level = %level.id, reward = %reward_id, "entry reward not in the catalog");
        return Ok(());
    };
    let title = format!("{} ({} entry reward)", reward.title, level.name);
    let redemption = redeem::grant(conn, shop, &program, member, reward, &title, now)?;
    match last {
        Some(last) => EntryReward::reissued(conn, &shop.id, &last.id, now, &redemption.id)?,
        None => EntryReward {
            id: new_id(),
            shop_id: shop.id.clone(),
            member_id: member.id.clone(),
            tier: level.id.clone(),
            issued_at: now,
            redemption_id: redemption.id.clone(),
        }
        .insert(conn)?,
    }
    Ok(())
}
