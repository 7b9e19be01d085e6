//! The win-back steps: each due step of each open entry, one step per entry per run (overdue
//! steps go out on successive days, never two at once). A hold-out entry's step is recorded as
//! `held_out` mail and sends nothing; a treated entry's step with a reward gets a single-use,
//! expiring code created on the platform for that customer before its mail is queued.
//!
//! The code is chosen and stored on the entry before the platform is asked, so a retry after a
//! lost answer looks the same code up instead of making a second one; the mail and the step's
//! advance are written in one transaction once the platform has the code.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::OsRng;

use crate::crypto::Keys;
use crate::db::models::win_back_entry::{end_reason, WinBackEntry};
use crate::db::models::{Member, Shop};
use crate::db::schema::win_back_entries;
use crate::db::{write_transaction, DbConnection};
use crate::domain::calendar;
use crate::domain::mail::Kind;
use crate::domain::referrals::Discount;
use crate::domain::retention::{next_step, StepDue, StepReward, WinBackProgram};
use crate::domain::rewards::discount_code;
use crate::domain::widget::Locale;
use crate::platform::{Audience, DiscountRequest, PlatformApi};
use crate::queue::JobError;
use crate::services::program::Program;
use crate::services::redeem::{create_code, credentials, Created};
use crate::services::referrals::{decimal, discount_value};

/// Entries read per page.
const PAGE: i64 = 200;

/// The prefix of win-back codes.
const CODE_PREFIX: &str = "BACK";

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepsReport {
    pub sent: u64,
    pub held_out: u64,
    pub finished: u64,
    /// Steps left for a later run (the platform could not make the code now).
    pub deferred: u64,
}

/// Sends every due step of the shop's open entries as of `now` (the shop's local day). With
/// win-back switched off, open entries end (`disabled`) instead: nothing more is sent for them.
pub fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    now: NaiveDateTime,
) -> Result<StepsReport, JobError> {
    let program = Program::of(shop);
    let today = calendar::local_date(calendar::zone(&shop.timezone), now);
    let mut report = StepsReport::default();
    let Some(win_back) = program.win_back.as_ref().filter(|w| w.enabled) else {
        end_all(conn, &shop.id, today, now)?;
        return Ok(report);
    };
    let mut after = String::new();
    loop {
        let due: Vec<WinBackEntry> = win_back_entries::table
            .filter(win_back_entries::shop_id.eq(&shop.id))
            .filter(win_back_entries::next_step_on.le(today))
            .filter(win_back_entries::ended_on.is_null())
            .filter(win_back_entries::id.gt(&after))
            .order(win_back_entries::id)
            .limit(PAGE)
            .select(WinBackEntry::as_select())
            .load(conn)?;
        let Some(last) = due.last() else { break };
        after = last.id.clone();
        for entry in &due {
            let step = Step {
                shop,
                program: &program,
                win_back,
                entry,
                today,
                now,
            };
            step.run(conn, runtime, api, keys, &mut report)?;
        }
    }
    Ok(report)
}

struct Step<'a> {
    shop: &'a Shop,
    program: &'a Program,
    win_back: &'a WinBackProgram,
    entry: &'a WinBackEntry,
    today: NaiveDate,
    now: NaiveDateTime,
}

impl Step<'_> {
    fn run(
        &self,
        conn: &mut DbConnection,
        runtime: &tokio::runtime::Handle,
        api: &impl PlatformApi,
        keys: &Keys,
        report: &mut StepsReport,
    ) -> Result<(), JobError> {
        let sent = usize::try_from(self.entry.steps_sent).unwrap_or(usize::MAX);
        let (index, step) = match next_step(
            self.entry.entered_on,
            &self.win_back.steps,
            sent,
            self.today,
        ) {
            StepDue::Finished => {
                self.finish(conn)?;
                report.finished += 1;
                return Ok(());
            }
            // The owner lengthened the delays since: wait for the new day.
            StepDue::Waiting { on, .. } => {
                diesel::update(win_back_entries::table.find(&self.entry.id))
                    .set(win_back_entries::next_step_on.eq(on))
                    .execute(conn)?;
                return Ok(());
            }
            StepDue::Due { step, .. } => match self.win_back.steps.get(step) {
                Some(due) => (step, due),
                None => return Ok(()),
            },
        };
        let member = Member::find(conn, &self.shop.id, &self.entry.member_id)?;
        let occasion = format!("win_back:{}:{index}", self.entry.lapse_on);
        if self.entry.holdout {
            write_transaction(conn, |c| {
                crate::services::mail::record_held_out(
                    c,
                    self.shop,
                    self.program,
                    &member,
                    Kind::WinBack,
                    &occasion,
                    self.now,
                )?;
                self.advance(c, index)
            })?;
            report.held_out += 1;
            return Ok(());
        }
        let mut context = serde_json::json!({});
        if let Some(reward) = &step.reward {
            match self.incentive(conn, runtime, api, keys, &member, reward)? {
                Some(code) => {
                    let expires_on = self
                        .today
                        .checked_add_days(Days::new(u64::from(reward.expires_days)))
                        .unwrap_or(self.today);
                    context = serde_json::json!({
                        "reward_code": code,
                        "reward_title": reward_title(self.shop, reward, self.locale(&member)),
                        "reward_expires_on": expires_on,
                    });
                }
                None => {
                    report.deferred += 1;
                    return Ok(());
                }
            }
        }
        write_transaction(conn, |c| {
            crate::services::mail::queue_variant(
                c,
                self.shop,
                self.program,
                &member,
                Kind::WinBack,
                &occasion,
                context,
                self.entry.variant.as_deref(),
                self.now,
            )?;
            self.advance(c, index)
        })?;
        report.sent += 1;
        Ok(())
    }

    /// The step's code, created on the platform for this customer: `None` when the platform
    /// cannot be asked now (the step waits for the next run); a refusal is an error (the job
    /// fails loudly: the owner's reward is one the platform will not take).
    fn incentive(
        &self,
        conn: &mut DbConnection,
        runtime: &tokio::runtime::Handle,
        api: &impl PlatformApi,
        keys: &Keys,
        member: &Member,
        reward: &StepReward,
    ) -> Result<Option<String>, JobError> {
        let creds = credentials(self.shop, keys)
            .ok_or_else(|| JobError::Permanent("no store API access for win-back codes".into()))?;
        let code = match &self.entry.pending_code {
            Some(code) => code.clone(),
            None => {
                let code = discount_code(CODE_PREFIX, &mut OsRng);
                write_transaction(conn, |c| {
                    diesel::update(win_back_entries::table.find(&self.entry.id))
                        .set((
                            win_back_entries::pending_code.eq(&code),
                            win_back_entries::updated_at.eq(self.now),
                        ))
                        .execute(c)
                })?;
                code
            }
        };
        let starts = self.now.and_utc();
        let request = DiscountRequest {
            code: code.clone(),
            title: format!("Win-back: we miss you ({code})"),
            audience: member
                .platform_customer_id
                .clone()
                .map_or(Audience::Anyone, Audience::Customer),
            value: discount_value(self.shop, &reward.discount),
            min_subtotal: reward.min_order_minor.map(|m| decimal(self.shop, m)),
            starts_at: starts,
            ends_at: Some(starts + chrono::Duration::days(i64::from(reward.expires_days))),
            usage_limit: Some(1),
            once_per_customer: true,
        };
        match runtime.block_on(create_code(api, &creds, &request)) {
            Created::Yes(_) => Ok(Some(code)),
            Created::Unknown(e) => {
                tracing::warn!(error = %e, entry = %self.entry.id, "win-back code unconfirmed; retried next run");
                Ok(None)
            }
            Created::No(e) if e.is_transient() => {
                tracing::warn!(error = %e, entry = %self.entry.id, "win-back code not created; retried next run");
                Ok(None)
            }
            Created::No(e) => Err(JobError::Permanent(format!("win-back code refused: {e}"))),
        }
    }

    /// Counts the step as done and schedules the next (or finishes the sequence).
    fn advance(&self, conn: &mut DbConnection, index: usize) -> QueryResult<()> {
        let sent = index + 1;
        let next = match next_step(
            self.entry.entered_on,
            &self.win_back.steps,
            sent,
            self.today,
        ) {
            StepDue::Due { on, .. } | StepDue::Waiting { on, .. } => Some(on),
            StepDue::Finished => None,
        };
        diesel::update(win_back_entries::table.find(&self.entry.id))
            .set((
                win_back_entries::steps_sent.eq(i32::try_from(sent).unwrap_or(i32::MAX)),
                win_back_entries::next_step_on.eq(next),
                win_back_entries::pending_code.eq(None::<String>),
                win_back_entries::ended_on.eq(next.is_none().then_some(self.today)),
                win_back_entries::end_reason.eq(next.is_none().then_some(end_reason::FINISHED)),
                win_back_entries::updated_at.eq(self.now),
            ))
            .execute(conn)?;
        Ok(())
    }

    fn locale(&self, member: &Member) -> Locale {
        Locale::negotiate(member.locale.as_deref(), self.program.widget.default_locale)
    }

    fn finish(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(win_back_entries::table.find(&self.entry.id))
            .set((
                win_back_entries::next_step_on.eq(None::<NaiveDate>),
                win_back_entries::ended_on.eq(self.today),
                win_back_entries::end_reason.eq(end_reason::FINISHED),
                win_back_entries::updated_at.eq(self.now),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Ends every open entry of the shop (win-back switched off).
fn end_all(
    conn: &mut DbConnection,
    shop_id: &str,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    write_transaction(conn, |c| {
        diesel::update(
            win_back_entries::table
                .filter(win_back_entries::shop_id.eq(shop_id))
                .filter(win_back_entries::ended_on.is_null()),
        )
        .set((
            win_back_entries::next_step_on.eq(None::<NaiveDate>),
            win_back_entries::ended_on.eq(today),
            win_back_entries::end_reason.eq(end_reason::DISABLED),
            win_back_entries::updated_at.eq(now),
        ))
        .execute(c)
    })
}

/// The reward in words for the mail, in the customer's language ("5.00 USD off").
fn reward_title(shop: &Shop, reward: &StepReward, locale: Locale) -> String {
    let arabic = locale == Locale::Ar;
    match (&reward.discount, arabic) {
        (Discount::FixedAmount { amount_minor }, false) => {
            format!("{} {} off", decimal(shop, *amount_minor), shop.currency)
        }
        (Discount::FixedAmount { amount_minor }, true) => {
            format!("خصم {} {}", decimal(shop, *amount_minor), shop.currency)
        }
        (Discount::Percent { percent }, false) => format!("{percent}% off"),
        (Discount::Percent { percent }, true) => format!("خصم {percent}٪"),
        (Discount::FreeShipping, false) => "free shipping".to_owned(),
        (Discount::FreeShipping, true) => "شحن مجاني".to_owned(),
    }
}
