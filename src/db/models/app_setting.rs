//! Instance-wide settings (not tenant data), such as the generated `APP_SECRET`.

use diesel::prelude::*;

use crate::db::schema::app_settings;
use crate::db::{now, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_settings)]
pub struct AppSetting {
    pub key: String,
    pub value: String,
    pub updated_at: chrono::NaiveDateTime,
}

impl AppSetting {
    pub fn get(conn: &mut DbConnection, key: &str) -> QueryResult<Option<String>> {
        app_settings::table
            .find(key)
            .select(app_settings::value)
            .first(conn)
            .optional()
    }

    /// Returns the stored value for `key`, storing `make()` first if there is none. Two processes
    /// racing here both end up with the value that won the insert.
    pub fn get_or_insert_with(
        conn: &mut DbConnection,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> QueryResult<String> {
        if let Some(value) = Self::get(conn, key)? {
            return Ok(value);
        }
        let row = AppSetting {
            key: key.to_owned(),
            value: make(),
            updated_at: now(),
        };
        crate::per_backend!(conn, |c| diesel::insert_into(app_settings::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))?;
        app_settings::table
            .find(key)
            .select(app_settings::value)
            .first(conn)
    }
}
