//! NPS surveys (one per survey e-mail, found by its link's token) and responses.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{nps_responses, nps_surveys};
use crate::db::DbConnection;

/// One survey e-mail's token: the links `GET /nps/{token}?score=N` answer it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = nps_surveys)]
pub struct NpsSurvey {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// 64 random hex digits: unguessable, and unique across shops.
    pub token: String,
    /// The shop-local date of the order that caused the survey.
    pub sent_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

impl NpsSurvey {
    /// Stores the surveys an applier batch made (their tokens are new), in as few statements as
    /// the bind limit allows.
    pub fn insert_all(conn: &mut DbConnection, rows: &[NpsSurvey]) -> QueryResult<()> {
        // 6 columns.
        for chunk in rows.chunks(1_000) {
            crate::per_backend!(&mut *conn, |c| diesel::insert_into(nps_surveys::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok(())
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = nps_responses)]
#[diesel(treat_none_as_default_value = false)]
pub struct NpsResponse {
    pub id: String,
    pub shop_id: String,
    /// `None` once the customer was redacted.
    pub member_id: Option<String>,
    /// The survey answered (channel `email`); `None` for the widget.
    pub survey_id: Option<String>,
    pub score: i32,
    pub comment: Option<String>,
    /// `email` or `widget`.
    pub channel: String,
    /// The shop-local day of the answer: the report counts by it.
    pub answered_on: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NpsSurvey {
    /// The survey a token names, in whichever shop (the token is the only key a link has).
    pub fn find_by_token(conn: &mut DbConnection, token: &str) -> QueryResult<Option<NpsSurvey>> {
        nps_surveys::table
            .filter(nps_surveys::token.eq(token))
            .select(NpsSurvey::as_select())
            .first(conn)
            .optional()
    }

    /// The member's latest survey date.
    pub fn last_sent_on(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
    ) -> QueryResult<Option<NaiveDate>> {
        nps_surveys::table
            .filter(nps_surveys::shop_id.eq(shop_id))
            .filter(nps_surveys::member_id.eq(member_id))
            .select(diesel::dsl::max(nps_surveys::sent_on))
            .first(conn)
    }
}

impl NpsResponse {
    /// The answer given through a survey's link, if any.
    pub fn find_by_survey(
        conn: &mut DbConnection,
        shop_id: &str,
        survey_id: &str,
    ) -> QueryResult<Option<NpsResponse>> {
        nps_responses::table
            .filter(nps_responses::shop_id.eq(shop_id))
            .filter(nps_responses::survey_id.eq(survey_id))
            .select(NpsResponse::as_select())
            .first(conn)
            .optional()
    }

    /// The day the member last answered, by any channel.
    pub fn last_answered_on(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
    ) -> QueryResult<Option<NaiveDate>> {
        nps_responses::table
            .filter(nps_responses::shop_id.eq(shop_id))
            .filter(nps_responses::member_id.eq(member_id))
            .select(diesel::dsl::max(nps_responses::answered_on))
            .first(conn)
    }

    /// Stores the answer unless its survey already has one; `false` then.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(nps_responses::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }
}
