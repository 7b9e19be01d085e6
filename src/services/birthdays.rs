//! Birthday points: a daily job per shop awards each member whose (observed) birthday has come,
//! once per year — the ledger key names the year, so a rerun or a second instance adds nothing.
//! Days are counted in UTC; a shop's own time zone is a later refinement.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::db::models::{Member, Shop};
use crate::db::schema::members;
use crate::db::{now, DbConnection};
use crate::domain::earning::birthday_due;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posted, Posting, WhenShort};
use crate::services::program::Program;

/// Awards the birthdays due `today`; returns how many were new.
pub fn award_due(
    conn: &mut DbConnection,
    shop: &Shop,
    today: NaiveDate,
) -> Result<usize, LedgerError> {
    let program = Program::of(shop);
    let rules = program.earning.clone();
    if rules.birthday_points <= 0 {
        return Ok(0);
    }
    let candidates: Vec<Member> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::birthday.is_not_null())
        .filter(members::merged_into.is_null())
        .filter(members::redacted_at.is_null())
        .select(Member::as_select())
        .load(conn)?;
    let mut awarded = 0;
    for member in candidates {
        let Some(birthday) = member.birthday else {
            continue;
        };
        if !birthday_due(&rules, birthday, today, None) {
            continue;
        }
        let posted = ledger::post(
            conn,
            &Posting {
                shop_id: shop.id.clone(),
                member_id: member.id.clone(),
                delta: rules.birthday_points,
                kind: LedgerKind::Birthday,
                status: LedgerStatus::Confirmed,
                reason: Some("Happy birthday!".into()),
                source: "member".into(),
                source_id: member.id.clone(),
                action: format!("birthday-{}", today.year()),
                detail: None,
                confirms_at: None,
                when_short: WhenShort::Refuse,
            },
            now(),
        )?;
        if matches!(posted, Posted::New { .. }) {
            awarded += 1;
            crate::services::mail::queue(
                conn,
                shop,
                &program,
                &member,
                crate::domain::mail::Kind::Birthday,
                &format!("birthday:{}", today.year()),
                serde_json::json!({ "points": rules.birthday_points }),
                now(),
            )?;
        }
    }
    Ok(awarded)
}
