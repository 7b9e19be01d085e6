use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::customer_facts;

/// A member's purchase facts row (see `services::retention::facts`).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = customer_facts)]
#[diesel(treat_none_as_default_value = false)]
pub struct CustomerFact {
    pub member_id: String,
    pub shop_id: String,
    pub first_order_on: Option<NaiveDate>,
    pub last_order_on: Option<NaiveDate>,
    pub order_count: i64,
    pub net_spend_minor: i64,
    pub median_gap_days: Option<f64>,
    /// The serialized `domain::retention::PurchaseFacts`.
    pub orders: String,
    pub segment: Option<String>,
    pub segment_on: Option<NaiveDate>,
    pub updated_at: NaiveDateTime,
}
