//! Members' referral codes and the clicks on their links.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::rngs::OsRng;

use crate::db::models::{Member, NewReferralClick, Shop};
use crate::db::schema::members;
use crate::db::types::InstallState;
use crate::db::{new_id, DbConnection};
use crate::domain::referrals::referral_code;

/// The member's referral code, created now if they have none. Codes are unique across shops
/// (a unique index), so `/r/{code}` needs no shop; a new code is checked free before it is
/// set, and a member given one meanwhile by another request keeps that one.
pub fn ensure_code(conn: &mut DbConnection, shop_id: &str, member_id: &str) -> QueryResult<String> {
    loop {
        let current: Option<String> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(member_id))
            .select(members::referral_code)
            .first(conn)?;
        if let Some(code) = current {
            return Ok(code);
        }
        let code = referral_code(&mut OsRng);
        let taken: i64 = members::table
            .filter(members::referral_code.eq(&code))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            continue;
        }
        diesel::update(
            members::table
                .filter(members::shop_id.eq(shop_id))
                .filter(members::id.eq(member_id))
                .filter(members::referral_code.is_null()),
        )
        .set(members::referral_code.eq(&code))
        .execute(conn)?;
    }
}

/// The member (and their shop, installed) whose referral code this is. Merged guests and
/// redacted members refer no one.
pub fn member_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<(Shop, Member)>> {
    let member: Option<Member> = members::table
        .filter(members::referral_code.eq(code))
        .filter(members::merged_into.is_null())
        .filter(members::redacted_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()?;
    let Some(member) = member else {
        return Ok(None);
    };
    let shop = Shop::find(conn, &member.shop_id)?;
    Ok((shop.install_state == InstallState::Installed).then_some((shop, member)))
}

/// The member's shareable link.
pub fn referral_url(public_url: &str, code: &str) -> String {
    format!("{}/r/{code}", public_url.trim_end_matches('/'))
}

/// Records one visit of a member's link. `visitor` is a keyed hash of the visitor's network.
pub fn record_click(
    conn: &mut DbConnection,
    member: &Member,
    visitor: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    NewReferralClick {
        id: new_id(),
        shop_id: member.shop_id.clone(),
        member_id: member.id.clone(),
        visitor,
        created_at: now,
    }
    .insert(conn)
}
