//! A credit the caller expects to be new (an order's first award): the balance update itself
//! locks the member and checks that the credit fits under `MAX_BALANCE`, and the line is
//! inserted after it. Two round trips instead of [`super::post`]'s three (read and lock, line,
//! update).
//!
//! A wrong guess costs a statement or two and changes nothing: when the line's key is in the
//! ledger already (an earlier delivery awarded it), the insert adds nothing and the balance
//! update is taken back, and the posting is `AlreadyPosted`, as `post` would say; when the
//! update changes nothing (the credit does not fit, or there is no such member), `post` is
//! asked and answers as it always does.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{insert_line, line_posted, LedgerError, Moved, Posted, Posting};
use crate::db::models::Member;
use crate::db::schema::members;
use crate::db::DbConnection;
use crate::domain::points::{LedgerStatus, MAX_BALANCE};

/// Posts `p` as [`super::post`] does, trying first to credit it in one statement. Debits (which
/// need the balance to decide what they take) go to `post` directly.
pub fn post_expecting_new(
    conn: &mut DbConnection,
    p: &Posting,
    now: NaiveDateTime,
) -> Result<Posted, LedgerError> {
    if p.delta < 0 || p.status == LedgerStatus::Void {
        return super::post(conn, p, now);
    }
    let key = p.idempotency_key();
    let moved = Moved::of(p, p.delta);
    let Some(after) = credit_in_place(conn, p, moved, now)? else {
        return super::post(conn, p, now);
    };
    let Some(entry_id) = insert_line(conn, p, p.delta, 0, key, now)? else {
        take_back(conn, p, moved, now)?;
        return Ok(Posted::AlreadyPosted);
    };
    let before = Member {
        points_balance: after.points_balance - moved.spendable,
        pending_points: after.pending_points - moved.pending,
        lifetime_points: after.lifetime_points - moved.lifetime,
        ..after
    };
    line_posted(conn, p, &before, p.delta, &entry_id, now)?;
    Ok(Posted::New {
        entry_id,
        applied: p.delta,
        shortfall: 0,
    })
}

/// Moves the member's balances by `moved` if the credit fits (held and, when it counts,
/// lifetime points stay within `MAX_BALANCE`); returns the member as updated, `None` when
/// nothing was changed.
fn credit_in_place(
    conn: &mut DbConnection,
    p: &Posting,
    moved: Moved,
    now: NaiveDateTime,
) -> QueryResult<Option<Member>> {
    let credit = p.delta;
    if credit > MAX_BALANCE {
        return Ok(None);
    }
    // `held + credit <= MAX` written so that nothing can overflow.
    let room = MAX_BALANCE - credit;
    let lifetime_room = if moved.lifetime > 0 { room } else { i64::MAX };
    crate::per_backend!(conn, |c| crate::fixed!(diesel::update(
        members::table
            .filter(members::shop_id.eq(&p.shop_id))
            .filter(members::id.eq(&p.member_id))
            .filter((members::points_balance + members::pending_points).le(room))
            .filter(members::lifetime_points.le(lifetime_room)),
    )
    .set(moved.changeset(now))
    .returning(Member::as_returning()))
    .get_result(c)
    .optional())
}

/// Undoes [`credit_in_place`]: the line was posted before.
fn take_back(
    conn: &mut DbConnection,
    p: &Posting,
    moved: Moved,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::update(
        members::table
            .filter(members::shop_id.eq(&p.shop_id))
            .filter(members::id.eq(&p.member_id)),
    )
    .set(moved.reversed().changeset(now))
    .execute(c))?;
    Ok(())
}
