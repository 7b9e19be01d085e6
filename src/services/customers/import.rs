//! `POST /import/customers`: balances, tiers and birthdays brought over from another loyalty
//! program's export, read as the file streams in and applied in batches.
//!
//! Each row is idempotent on its own: its points arrive as one `import` ledger line keyed by
//! (customer, the row's content), its tier as a grant keyed the same way, so importing the same
//! file twice (or a file that repeats rows of an earlier one) changes nothing the second time.
//! A bad row is reported by its line number and the rest still import; every row runs in a
//! savepoint, so a row that fails half-way leaves nothing behind.

use std::io::Read;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{Member, Shop};
use crate::db::schema::{members, tier_grants};
use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::customer_import::{read_row, Columns, HeaderError, ImportRow};
use crate::domain::event::CustomerRef;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::tiers::Occasion;
use crate::services::ledger::{self, LedgerError, Posted, Posting, WhenShort};
use crate::services::members::{self as member_lookup, GuestClaim};
use crate::services::program::Program;
use crate::services::tiers;

/// Rows applied per write transaction: large enough that commits are not the cost, small
/// enough that other writers (webhooks) wait at most a few milliseconds behind an import.
const BATCH: usize = 500;

/// Errors listed in the answer at most; the count covers them all.
pub const MAX_LISTED_ERRORS: usize = 1_000;

/// How long an imported tier is held before the member's own activity decides.
pub const IMPORTED_TIER_DAYS: i64 = 365;

/// The membership id of imported tier grants (paid memberships use their own ids).
const IMPORT_MEMBERSHIP: &str = "import";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub row: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows that changed something.
    pub imported: u64,
    /// Rows already imported before (or asking for nothing new).
    pub unchanged: u64,
    /// Rows refused; the first [`MAX_LISTED_ERRORS`] are in `errors`.
    pub failed: u64,
    pub errors: Vec<RowError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty: it needs a header row (customer_id,email,points,tier,birthday)")]
    Empty,
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The upload broke off or is not CSV; rows before it were imported (and are recognised
    /// if the file is sent again).
    #[error("the file could not be read after {rows_read} rows ({reason}); rows before it were imported and importing the whole file again is safe")]
    Unreadable { rows_read: u64, reason: String },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

enum Outcome {
    Imported,
    Unchanged,
}

/// Reads `input` as CSV and imports it into `shop`'s program.
pub fn run(
    conn: &mut DbConnection,
    shop: &Shop,
    input: impl Read,
    now: NaiveDateTime,
) -> Result<ImportReport, ImportError> {
    let program = Program::of(shop);
    let tiers: Vec<(String, String)> = program
        .tiers
        .as_ref()
        .map(|t| {
            t.levels
                .iter()
                .map(|l| (l.id.clone(), l.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(ImportError::Empty),
        Some(Err(e)) => return Err(unreadable(0, &e)),
        Some(Ok(h)) => h,
    };
    let columns =
        Columns::from_header(header.iter().map(|f| std::str::from_utf8(f).unwrap_or("")))?;
    let mut report = ImportReport::default();
    let mut batch: Vec<(u64, Result<ImportRow, String>)> = Vec::with_capacity(BATCH);
    for record in records {
        let record = record.map_err(|e| unreadable(report.rows + batch.len() as u64, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue; // a blank line (spreadsheets end files with some)
        }
        let row = match record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        {
            Ok(fields) => read_row(&columns, &fields, &tiers),
            Err(_) => Err("the row is not UTF-8 text (export the file as CSV UTF-8)".into()),
        };
        batch.push((line, row));
        if batch.len() == BATCH {
            apply_batch(conn, shop, &program, &mut batch, &mut report, now)?;
        }
    }
    apply_batch(conn, shop, &program, &mut batch, &mut report, now)?;
    Ok(report)
}

fn unreadable(rows_read: u64, e: &csv::Error) -> ImportError {
    ImportError::Unreadable {
        rows_read,
        reason: e.to_string(),
    }
}

fn apply_batch(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    batch: &mut Vec<(u64, Result<ImportRow, String>)>,
    report: &mut ImportReport,
    now: NaiveDateTime,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = write_transaction(conn, |conn| {
        batch
            .iter()
            .map(|(line, row)| {
                let outcome = match row {
                    Err(message) => Err(message.clone()),
                    // A savepoint per row: a row refused half-way leaves nothing behind.
                    Ok(row) => match conn.transaction(|c| apply_row(c, shop, program, row, now)) {
                        Ok(o) => Ok(o),
                        Err(RowFailure::Refused(message)) => Err(message),
                        Err(RowFailure::Database(e)) => return Err(e),
                    },
                };
                Ok::<_, diesel::result::Error>((*line, outcome))
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    for (line, outcome) in outcomes {
        report.rows += 1;
        match outcome {
            Ok(Outcome::Imported) => report.imported += 1,
            Ok(Outcome::Unchanged) => report.unchanged += 1,
            Err(message) => {
                report.failed += 1;
                if report.errors.len() < MAX_LISTED_ERRORS {
                    report.errors.push(RowError { row: line, message });
                }
            }
        }
    }
    batch.clear();
    Ok(())
}

enum RowFailure {
    Refused(String),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for RowFailure {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

fn apply_row(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    row: &ImportRow,
    now: NaiveDateTime,
) -> Result<Outcome, RowFailure> {
    let customer = CustomerRef {
        id: row.customer_id.clone(),
        email: row.email.clone(),
    };
    // Enrols a customer the program has not seen yet (the point of importing from another app);
    // a guest with the same e-mail stays a guest until the platform proves the account owns it.
    let member = member_lookup::resolve(
        conn,
        &shop.id,
        Some(&customer),
        None,
        GuestClaim::Refused,
        now,
    )?
    .ok_or_else(|| RowFailure::Refused("the row names no customer".into()))?;
    if member.redacted_at.is_some() || member.merged_into.is_some() {
        return Err(RowFailure::Refused(
            "this customer's data was erased on the platform's request; nothing imported".into(),
        ));
    }
    let key = format!("{}:{}", member.id, row.key());
    let mut changed = false;
    if row.points > 0 {
        let posting = Posting {
            shop_id: shop.id.clone(),
            member_id: member.id.clone(),
            delta: row.points,
            kind: LedgerKind::Import,
            status: LedgerStatus::Confirmed,
            reason: Some("Imported balance".into()),
            source: "import".into(),
            source_id: key.clone(),
            action: "import".into(),
            detail: None,
            confirms_at: None,
            when_short: WhenShort::Refuse,
        };
        match ledger::post(conn, &posting, now) {
            Ok(Posted::New { .. }) => changed = true,
            Ok(_) => {}
            Err(LedgerError::Database(e)) => return Err(RowFailure::Database(e)),
            Err(e) => return Err(RowFailure::Refused(e.to_string())),
        }
    }
    if let Some(tier) = &row.tier {
        changed |= grant_tier(conn, shop, program, &member, tier, &key, now)?;
    }
    if let (Some(birthday), None) = (row.birthday, member.birthday) {
        // The platform's own birthday, once known, is not overwritten by an import.
        diesel::update(
            members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::id.eq(&member.id)),
        )
        .set((members::birthday.eq(birthday), members::updated_at.eq(now)))
        .execute(conn)?;
        changed = true;
    }
    Ok(if changed {
        Outcome::Imported
    } else {
        Outcome::Unchanged
    })
}

/// Holds `tier` for the member for a year from today (the shop's day), then lets their own
/// activity decide, as a paid membership does; once per (member, row).
fn grant_tier(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    tier: &str,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let grant_key = format!("import:{key}");
    let exists = tier_grants::table
        .filter(tier_grants::shop_id.eq(&shop.id))
        .filter(tier_grants::platform_order_id.eq(&grant_key))
        .filter(tier_grants::membership_id.eq(IMPORT_MEMBERSHIP))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    let today = tiers::today(shop, now);
    diesel::insert_into(tier_grants::table)
        .values((
            tier_grants::id.eq(new_id()),
            tier_grants::shop_id.eq(&shop.id),
            tier_grants::member_id.eq(&member.id),
            tier_grants::membership_id.eq(IMPORT_MEMBERSHIP),
            tier_grants::tier.eq(tier),
            tier_grants::platform_order_id.eq(&grant_key),
            tier_grants::starts_on.eq(today),
            tier_grants::ends_on.eq(today + Duration::days(IMPORTED_TIER_DAYS)),
            tier_grants::created_at.eq(now),
        ))
        .execute(conn)?;
    tiers::assess(
        conn,
        shop,
        program,
        std::slice::from_ref(&member.id),
        Occasion::Activity,
        now,
    )?;
    Ok(true)
}
