//! Referrals as the owner's API shows them.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::Referral;
use crate::db::schema::{members, referrals};
use crate::db::DbConnection;
use crate::domain::referrals::Status;

#[derive(Debug, Clone, Serialize)]
pub struct ReferralView {
    pub id: String,
    pub referrer_customer_id: Option<String>,
    pub friend_email: Option<String>,
    pub friend_customer_id: Option<String>,
    pub order_id: String,
    pub order_name: Option<String>,
    pub order_subtotal_minor: i64,
    /// How the order named the referral: `discount_code`, `cart_attribute` or `landing_site`.
    pub via: String,
    pub status: String,
    pub risk_score: i32,
    pub signals: Vec<String>,
    pub reward_points: i64,
    pub settles_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl ReferralView {
    pub fn new(r: Referral, referrer_customer_id: Option<String>) -> Self {
        Self {
            signals: serde_json::from_str(&r.signals).unwrap_or_default(),
            id: r.id,
            referrer_customer_id,
            friend_email: r.friend_email,
            friend_customer_id: r.friend_customer_id,
            order_id: r.platform_order_id,
            order_name: r.order_name,
            order_subtotal_minor: r.order_subtotal_minor,
            via: r.via,
            status: r.status,
            risk_score: r.risk_score,
            reward_points: r.reward_points,
            settles_at: rfc3339(r.settles_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
        }
    }

    /// The view of one referral, with its referrer's platform id.
    pub fn of(conn: &mut DbConnection, r: Referral) -> QueryResult<Self> {
        let referrer: Option<String> = members::table
            .filter(members::shop_id.eq(&r.shop_id))
            .filter(members::id.eq(&r.referrer_member_id))
            .select(members::platform_customer_id)
            .first(conn)
            .optional()?
            .flatten();
        Ok(Self::new(r, referrer))
    }
}

/// The shop's referrals (in `status`, or all), newest first; the review queue is
/// `status = flagged`.
pub fn list(
    conn: &mut DbConnection,
    shop_id: &str,
    status: Option<Status>,
    limit: i64,
) -> QueryResult<Vec<ReferralView>> {
    list_where(conn, shop_id, status, None, limit)
}

/// The referrals one member made (as the referrer), newest first: their customer profile.
pub fn of_referrer(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    limit: i64,
) -> QueryResult<Vec<ReferralView>> {
    list_where(conn, shop_id, None, Some(member_id), limit)
}

fn list_where(
    conn: &mut DbConnection,
    shop_id: &str,
    status: Option<Status>,
    referrer: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ReferralView>> {
    let mut query = referrals::table
        .inner_join(members::table.on(members::id.eq(referrals::referrer_member_id)))
        .filter(referrals::shop_id.eq(shop_id))
        .order((referrals::created_at.desc(), referrals::id.desc()))
        .limit(limit)
        .select((Referral::as_select(), members::platform_customer_id))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(referrals::status.eq(status.as_str()));
    }
    if let Some(member_id) = referrer {
        query = query.filter(referrals::referrer_member_id.eq(member_id.to_owned()));
    }
    let rows: Vec<(Referral, Option<String>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, c)| ReferralView::new(r, c))
        .collect())
}
