//! Fulfilments: donation and custom rewards a member redeemed, for the owner to give by hand.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{fulfilments, members};
use crate::db::types::FulfilmentStatus;
use crate::db::DbConnection;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = fulfilments)]
// None binds NULL instead of omitting the column: one SQL text per insert (see `Redemption`).
#[diesel(treat_none_as_default_value = false)]
pub struct Fulfilment {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// The idempotency key of the ledger line that spent the points.
    pub ledger_key: String,
    pub reward_id: String,
    /// The reward's title when redeemed (the catalog may change later).
    pub reward_title: String,
    /// `donation` or `custom` (`RewardKind::name`).
    pub kind: String,
    pub charity: Option<String>,
    pub amount_minor: Option<i64>,
    pub description: Option<String>,
    pub points: i64,
    #[diesel(serialize_as = String, deserialize_as = String)]
    pub status: FulfilmentStatus,
    pub done_at: Option<NaiveDateTime>,
    /// Who marked it done: the Shopify user id of the session token, or `api key`.
    pub done_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A fulfilment with the platform's id of the member who redeemed it (the owner's list).
#[derive(Debug, Clone)]
pub struct FulfilmentWithCustomer {
    pub fulfilment: Fulfilment,
    pub customer_id: Option<String>,
}

/// One donation counted by the donations report.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct DonationRow {
    pub charity: Option<String>,
    pub amount_minor: Option<i64>,
    pub points: i64,
}

impl Fulfilment {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(fulfilments::table)
            .values(self.clone())
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Fulfilment> {
        fulfilments::table
            .filter(fulfilments::shop_id.eq(shop_id))
            .filter(fulfilments::id.eq(id))
            .select(Fulfilment::as_select())
            .first(conn)
    }

    /// The shop's fulfilments (in `status`, or all), newest first, with the customer's id.
    pub fn list(
        conn: &mut DbConnection,
        shop_id: &str,
        status: Option<FulfilmentStatus>,
        limit: i64,
    ) -> QueryResult<Vec<FulfilmentWithCustomer>> {
        let mut query = fulfilments::table
            .inner_join(members::table)
            .filter(fulfilments::shop_id.eq(shop_id))
            .order((fulfilments::created_at.desc(), fulfilments::id.desc()))
            .limit(limit)
            .select((Fulfilment::as_select(), members::platform_customer_id))
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(fulfilments::status.eq(status.as_str()));
        }
        Ok(query
            .load::<(Fulfilment, Option<String>)>(conn)?
            .into_iter()
            .map(|(fulfilment, customer_id)| FulfilmentWithCustomer {
                fulfilment,
                customer_id,
            })
            .collect())
    }

    /// Moves an open fulfilment to `to`, recording `done_by` and the time for `done`; false if
    /// it was no longer open (another request settled it first), so each happens once.
    pub fn close(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        to: FulfilmentStatus,
        done_by: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        let done = to == FulfilmentStatus::Done;
        let changed = diesel::update(
            fulfilments::table
                .filter(fulfilments::shop_id.eq(shop_id))
                .filter(fulfilments::id.eq(id))
                .filter(fulfilments::status.eq(FulfilmentStatus::Open.as_str())),
        )
        .set((
            fulfilments::status.eq(to.as_str()),
            fulfilments::done_at.eq(done.then_some(at)),
            fulfilments::done_by.eq(done_by.filter(|_| done)),
            fulfilments::updated_at.eq(at),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// The shop's donations created in `[start, end)` that were not cancelled.
    pub fn donations(
        conn: &mut DbConnection,
        shop_id: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> QueryResult<Vec<DonationRow>> {
        fulfilments::table
            .filter(fulfilments::shop_id.eq(shop_id))
            .filter(fulfilments::kind.eq("donation"))
            .filter(fulfilments::status.ne(FulfilmentStatus::Cancelled.as_str()))
            .filter(fulfilments::created_at.ge(start))
            .filter(fulfilments::created_at.lt(end))
            .select((
                fulfilments::charity,
                fulfilments::amount_minor,
                fulfilments::points,
            ))
            .load(conn)
    }
}
