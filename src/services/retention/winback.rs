//! Win-back, persisted: lapsed customers enter the sequence (or its hold-out) in the daily pass
//! ([`EnterLapsed`]), an applied order ends their sequence in its own transaction
//! ([`end_on_orders`]), the steps job sends what is due ([`steps`]), and the report compares the
//! groups from the stored entries and purchase facts ([`report`]). The rules are pure, in
//! `domain::retention`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::models::win_back_entry::{end_reason, WinBackEntry};
use crate::db::schema::{customer_facts, win_back_entries};
use crate::db::{new_id, DbConnection};
use crate::domain::retention::{
    assign, ends_sequence, lapse_began, lapsed_since, next_step, PurchaseFacts, StepDue,
    WinBackProgram, LIFT_WINDOW_DAYS,
};

use super::segments::{Classified, DailyVisitor};

pub mod report;
pub mod steps;

/// Enters each newly lapsed customer the daily pass visits: once per lapse, into the hold-out
/// or the sequence by one recorded random draw.
pub struct EnterLapsed<'a> {
    pub shop_id: &'a str,
    pub program: &'a WinBackProgram,
    pub now: NaiveDateTime,
    /// Entries added by this pass.
    pub entered: u64,
}

impl DailyVisitor for EnterLapsed<'_> {
    fn visit(&mut self, conn: &mut DbConnection, customer: &Classified<'_>) -> QueryResult<()> {
        if !self.program.enabled {
            return Ok(());
        }
        let rule = self.program.lapse_rule();
        let Some(lapse) = lapsed_since(customer.facts, rule, customer.today) else {
            return Ok(());
        };
        if customer.win_back_lapse_on == Some(lapse) {
            return Ok(());
        }
        let entered_on = entry_day(customer.facts, self.program, customer.today);
        let assignment = assign(
            rand::random(),
            self.program.holdout_pct,
            &self.program.subject_variants,
        );
        let next = match next_step(entered_on, &self.program.steps, 0, customer.today) {
            StepDue::Due { on, .. } | StepDue::Waiting { on, .. } => Some(on),
            StepDue::Finished => None,
        };
        let entry = WinBackEntry {
            id: new_id(),
            shop_id: self.shop_id.to_owned(),
            member_id: customer.member_id.to_owned(),
            lapse_on: lapse,
            entered_on,
            holdout: assignment.holdout,
            variant: assignment.variant,
            steps_sent: 0,
            next_step_on: next,
            pending_code: None,
            ended_on: None,
            end_reason: None,
            created_at: self.now,
            updated_at: self.now,
        };
        if entry.insert_once(conn)? {
            self.entered += 1;
        }
        diesel::update(customer_facts::table.find(customer.member_id))
            .set(customer_facts::win_back_lapse_on.eq(lapse))
            .execute(conn)?;
        Ok(())
    }
}

/// The day an entry is dated: the day the lapse began, so its schedule and its report window
/// follow the customer's own history (history sent late included); but a lapse noticed more
/// than the report's window after it began (win-back just switched on, customers long gone)
/// starts on the day it is noticed, so its first steps are not all overdue at once and its
/// window is not over before it starts.
fn entry_day(facts: &PurchaseFacts, program: &WinBackProgram, today: NaiveDate) -> NaiveDate {
    match lapse_began(facts, program.lapse_rule()) {
        Some(began) if began <= today && (today - began).num_days() <= LIFT_WINDOW_DAYS => began,
        _ => today,
    }
}

/// Ends the members' open sequences when their facts, just updated by applied orders, say they
/// end (an order after the lapse): in the orders' transaction, dated by the order. One read of
/// the open entries of all of them.
pub fn end_on_orders(
    conn: &mut DbConnection,
    members: &[(&str, &PurchaseFacts)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if members.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = members.iter().map(|(id, _)| *id).collect();
    let open: Vec<WinBackEntry> = win_back_entries::table
        .filter(in_list(win_back_entries::member_id, &ids))
        .filter(win_back_entries::ended_on.is_null())
        .select(WinBackEntry::as_select())
        .load(conn)?;
    let mut ended = 0;
    for entry in open {
        let Some((_, facts)) = members.iter().find(|(id, _)| *id == entry.member_id) else {
            continue;
        };
        if !ends_sequence(entry.lapse_on, facts) {
            continue;
        }
        let on = facts.last_order().unwrap_or(entry.entered_on);
        ended += diesel::update(win_back_entries::table.find(&entry.id))
            .set((
                win_back_entries::ended_on.eq(on),
                win_back_entries::end_reason.eq(end_reason::ORDERED),
                win_back_entries::next_step_on.eq(None::<NaiveDate>),
                win_back_entries::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(ended)
}
