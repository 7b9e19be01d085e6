//! What a tier change sets off outside the tier itself: the platform customer tag and the
//! level's entry reward, both through the job queue so a platform outage delays them without
//! losing them or holding up the transaction that changed the tier.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::Shop;
use crate::db::DbConnection;
use crate::domain::tiers::{Change, TierProgram};

/// Called inside the transaction that recorded `change`.
pub fn tier_changed(
    _conn: &mut DbConnection,
    _shop: &Shop,
    _tiers: &TierProgram,
    _member_id: &str,
    _change: &Change,
    _now: NaiveDateTime,
) -> QueryResult<()> {
    Ok(())
}
