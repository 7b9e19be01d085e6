//! VIP tiers in the database: qualifying activity kept current as orders, refunds and bonuses
//! are applied; evaluations inside the transaction that changed the activity (upgrades at
//! once); the daily review and the re-evaluation after an edit, in batches; the tier history;
//! what a change sets off (the platform customer tag, the level's entry reward).
//! The rules themselves are pure, in `domain::tiers`.

mod activity;
mod assess;
mod effects;
mod entry_rewards;
mod grants;
mod history;
mod review;
mod tags;

pub use activity::{count_due, move_to, record_bonus};
pub(crate) use activity::{upsert_held, NewActivity};
pub use assess::{assess, state_of, today};
pub use history::{empty_view, history, member_view, TierEventView, TierView};
pub use review::{reevaluate_all, review_due, Pass, BATCH};
pub use tags::sync_job as sync_tags_job;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::{Order, Shop};
use crate::db::DbConnection;
use crate::domain::tiers::Occasion;
use crate::services::program::Program;

/// After an order, refund or cancellation was applied: brings the order's activity and any
/// membership it bought up to date and re-evaluates its member when their standing changed.
/// `eligible`: the order is paid and not a test (`None`: unknown here, as for a refund: only
/// an order already counted is updated). `net_points`: the order's points when the caller has
/// just written its only line (else read from the ledger).
pub fn after_order(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    order: &Order,
    eligible: Option<bool>,
    net_points: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let counts = activity::record_order(
        conn,
        shop,
        program.earning.pending_days,
        order,
        eligible,
        net_points,
        now,
    )?;
    let granted = grants::sync_order(
        conn,
        shop,
        &program.memberships,
        order,
        eligible.unwrap_or(true),
        now,
    )?;
    match (counts, &order.member_id) {
        (Some(member), _) => {
            assess(conn, shop, program, &[member], Occasion::Activity, now)?;
        }
        (None, Some(member)) if granted => {
            let ids = [member.clone()];
            assess(conn, shop, program, &ids, Occasion::Activity, now)?;
        }
        (None, Some(member_id)) if open_to_all(program) => {
            let member = crate::db::models::Member::find(conn, &shop.id, member_id)?;
            welcome(conn, shop, program, &member, now)?;
        }
        _ => {}
    }
    Ok(())
}

/// A member without a tier in a program whose first level starts at zero: they hold it from
/// the start, not from their first settled order.
pub fn welcome(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &crate::db::models::Member,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if member.tier.is_none() && open_to_all(program) {
        let ids = [member.id.clone()];
        assess(conn, shop, program, &ids, Occasion::Activity, now)?;
    }
    Ok(())
}

fn open_to_all(program: &Program) -> bool {
    program
        .tiers
        .as_ref()
        .and_then(|t| t.levels.first())
        .is_some_and(|l| l.threshold <= 0)
}

/// The confirmation job's part: activity whose return window has passed starts counting, and
/// its members are evaluated (the upgrade happens in the job's transaction).
pub fn count_and_assess(
    conn: &mut DbConnection,
    shop: &Shop,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let members = count_due(conn, &shop.id, now)?;
    let program = Program::of(shop);
    let mut changed = 0;
    for chunk in members.chunks(500) {
        changed += assess(conn, shop, &program, chunk, Occasion::Activity, now)?.len();
    }
    Ok(changed)
}
