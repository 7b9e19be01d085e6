//! One lapse of a customer in the win-back sequence or its hold-out.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::win_back_entries;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = win_back_entries)]
#[diesel(treat_none_as_default_value = false)]
pub struct WinBackEntry {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// The customer's last order date when they lapsed: the lapse's identity.
    pub lapse_on: NaiveDate,
    pub entered_on: NaiveDate,
    /// In the hold-out: no win-back mail, counted against the treated group.
    pub holdout: bool,
    pub variant: Option<String>,
    pub steps_sent: i32,
    pub next_step_on: Option<NaiveDate>,
    pub pending_code: Option<String>,
    pub ended_on: Option<NaiveDate>,
    /// `ordered`, `finished` or `disabled`.
    pub end_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Why a sequence ended.
pub mod end_reason {
    pub const ORDERED: &str = "ordered";
    pub const FINISHED: &str = "finished";
    pub const DISABLED: &str = "disabled";
}

impl WinBackEntry {
    /// Stores the entry unless this lapse of the customer already has one; whether it was added.
    pub fn insert_once(&self, conn: &mut crate::db::DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(win_back_entries::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }
}
