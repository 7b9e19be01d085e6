//! Saving a program an owner changed: the one path both the admin API (`PUT /program`) and the
//! admin UI's program editor take, so the jobs a change needs are never forgotten by one of them.

use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::{now, write_transaction, DbConnection, DbError};
use crate::queue::{self, JobKind, JobSpec};
use crate::services::program::Program;

/// Stores `program` (already checked by [`Program::parse`]) as the shop's program and, in the
/// same transaction, enqueues what the change needs: a collection sync when earning names
/// collections, a re-evaluation of every member when tiers or memberships changed.
pub fn replace(c: &mut DbConnection, shop: &Shop, program: &Program) -> Result<(), DbError> {
    let stored = serde_json::to_string(program)
        .map_err(|e| DbError::from(diesel::result::Error::SerializationError(Box::new(e))))?;
    let shop_id = shop.id.clone();
    let uses_collections = !program.earning.collection_multipliers.is_empty();
    // Tiers edited while live: every member is re-evaluated, in batches, by a job.
    let before = Program::of(shop);
    let tiers_changed = before.tiers != program.tiers || before.memberships != program.memberships;
    write_transaction(c, |c| {
        diesel::update(shops::table.find(&shop_id))
            .set((shops::program.eq(stored), shops::updated_at.eq(now())))
            .execute(c)?;
        if uses_collections {
            // Fetch the named collections' products now rather than at tomorrow's sync.
            queue::enqueue(
                c,
                JobSpec {
                    shop_id: shop_id.clone(),
                    kind: JobKind::SyncCollections,
                    payload: serde_json::json!({}),
                    dedupe_key: Some(format!("collections:program:{}", crate::db::new_id())),
                    run_at: now(),
                    max_attempts: 5,
                },
            )?;
        }
        if tiers_changed {
            queue::enqueue(
                c,
                JobSpec {
                    shop_id: shop_id.clone(),
                    kind: JobKind::ReevaluateTiers,
                    payload: serde_json::json!({}),
                    dedupe_key: Some(format!("tiers:program:{}", crate::db::new_id())),
                    run_at: now(),
                    max_attempts: 10,
                },
            )?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(DbError::from)
}
