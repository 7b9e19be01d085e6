//! One line of the append-only points ledger. Lines are never deleted; a line's `status` moves
//! pending → confirmed or → void, and every change to a balance has exactly one line.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::ledger_entries;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntry {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub source: String,
    pub source_id: String,
    pub action: String,
    /// Unique per shop: `{source}:{source_id}:{action}`. A replayed event hits it and changes nothing.
    pub idempotency_key: String,
    /// JSON detail, e.g. the earning rule and order lines snapshotted at award time.
    pub detail: Option<String>,
    pub confirms_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ledger_entries)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewLedgerEntry {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub source: String,
    pub source_id: String,
    pub action: String,
    pub idempotency_key: String,
    pub detail: Option<String>,
    pub confirms_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewLedgerEntry {
    /// Inserts the line unless one with the same idempotency key exists; returns whether it was new.
    /// Kept prepared (`db::fixed`): one runs for every award.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let inserted = crate::per_backend!(conn, |c| crate::fixed!(diesel::insert_into(
            ledger_entries::table
        )
        .values(self.clone())
        .on_conflict_do_nothing())
        .execute(c))?;
        Ok(inserted == 1)
    }
}

impl LedgerEntry {
    pub fn find_by_key(
        conn: &mut DbConnection,
        shop_id: &str,
        idempotency_key: &str,
    ) -> QueryResult<Option<LedgerEntry>> {
        crate::per_backend!(conn, |c| ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::idempotency_key.eq(idempotency_key))
            .select(LedgerEntry::as_select())
            .first(c)
            .optional())
    }

    /// A member's newest lines as the widget shows them: only the columns the history index
    /// carries, so the read never touches the table.
    pub fn history_for_member(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<HistoryRow>> {
        crate::per_backend!(conn, |c| ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::member_id.eq(member_id))
            .order((ledger_entries::created_at.desc(), ledger_entries::id.desc()))
            .limit(limit)
            .select(HistoryRow::as_select())
            .load(c))
    }

    /// A member's ledger, newest first.
    pub fn list_for_member(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<LedgerEntry>> {
        crate::per_backend!(conn, |c| ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::member_id.eq(member_id))
            .order((ledger_entries::created_at.desc(), ledger_entries::id.desc()))
            .limit(limit)
            .select(LedgerEntry::as_select())
            .load(c))
    }
}

/// One ledger line as a shopper sees it in their history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ledger_entries)]
pub struct HistoryRow {
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub confirms_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}
