//! `POST /import/customers`: balances, tiers and birthdays brought over from another loyalty
//! program's export, read as the file streams in and applied in batches.
//!
//! Each row is idempotent on its own: its points arrive as one `import` ledger line keyed by
//! (customer, the row's content), its tier as a grant keyed the same way, so importing the same
//! file twice (or a file that repeats rows of an earlier one) changes nothing the second time.
//! A bad row is reported by its line number (with a typed reason, see [`RowProblem`]) and the
//! rest still import. A batch is applied with a few set-based statements (`batch`): every row's
//! fate is decided before anything is written, so a refused row leaves nothing behind.

mod batch;
mod members;

use std::io::Read;

use chrono::NaiveDateTime;
use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::db::models::Shop;
use crate::db::{write_transaction, DbConnection};
use crate::domain::customer_import::{read_row, Columns, HeaderError, ImportRow};
use crate::services::program::Program;

pub use crate::domain::customer_import::RowProblem;

/// Rows applied per write transaction: large enough that commits are not the cost, small
/// enough that other writers (webhooks) wait at most a few milliseconds behind an import.
const BATCH: usize = 500;

/// Errors listed in the answer at most; the count covers them all.
pub const MAX_LISTED_ERRORS: usize = 1_000;

/// How long an imported tier is held before the member's own activity decides.
pub const IMPORTED_TIER_DAYS: i64 = 365;

/// The membership id of imported tier grants (paid memberships use their own ids).
const IMPORT_MEMBERSHIP: &str = "import";

/// A refused row. Answered as `{"row", "code", "message"}`: the message in English, the code
/// stable for clients (`RowProblem::code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub row: u64,
    pub problem: RowProblem,
}

impl Serialize for RowError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RowError", 3)?;
        s.serialize_field("row", &self.row)?;
        s.serialize_field("code", self.problem.code())?;
        s.serialize_field("message", &self.problem.to_string())?;
        s.end()
    }
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
    let mut batch: Vec<(u64, Result<ImportRow, RowProblem>)> = Vec::with_capacity(BATCH);
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
            Err(_) => Err(RowProblem::NotUtf8),
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
    batch: &mut Vec<(u64, Result<ImportRow, RowProblem>)>,
    report: &mut ImportReport,
    now: NaiveDateTime,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    // An import grows the tables from nothing; its statements are planned for the tables as
    // they are at each batch, never kept prepared with a plan made while they were small
    // (`db::init_connection`).
    let outcomes = write_transaction(conn, |conn| batch::apply(conn, shop, program, batch, now))?;
    for ((line, _), outcome) in batch.iter().zip(outcomes) {
        report.rows += 1;
        match outcome {
            Ok(Outcome::Imported) => report.imported += 1,
            Ok(Outcome::Unchanged) => report.unchanged += 1,
            Err(problem) => {
                report.failed += 1;
                if report.errors.len() < MAX_LISTED_ERRORS {
                    report.errors.push(RowError {
                        row: *line,
                        problem,
                    });
                }
            }
        }
    }
    batch.clear();
    Ok(())
}
