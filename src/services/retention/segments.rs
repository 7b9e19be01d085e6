//! The daily RFM segmentation of a shop, streamed: `customer_facts` is read in keyset pages
//! (never every customer in memory). The first pass counts every customer's gaps into the shop's
//! median ([`ShopGaps`], fixed memory); the second classifies each customer on the shop's local
//! day and writes the segment only where it changed. Each classified customer is also handed to
//! a [`DailyVisitor`], in the page's write transaction, so per-customer daily work (win-back
//! entry) rides the same pass instead of reading everyone again.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::customer_facts;
use crate::db::{write_transaction, DbConnection};
use crate::domain::calendar;
use crate::domain::retention::{classify, LapseRule, PurchaseFacts, Segment, ShopGaps};
use crate::services::program::Program;

/// Customers per page.
pub const PAGE: i64 = 10_000;

/// One customer as the second pass sees them.
#[derive(Debug)]
pub struct Classified<'a> {
    pub member_id: &'a str,
    pub facts: &'a PurchaseFacts,
    /// The stored segment before this run.
    pub previous: Option<Segment>,
    /// The segment on `today`.
    pub segment: Option<Segment>,
    /// The shop's local day the run is for.
    pub today: NaiveDate,
    /// The lapse (its last order date) the customer last entered win-back for.
    pub win_back_lapse_on: Option<NaiveDate>,
}

/// Per-customer work done during the daily pass, in the write transaction of the customer's page.
pub trait DailyVisitor {
    fn visit(&mut self, conn: &mut DbConnection, customer: &Classified<'_>) -> QueryResult<()>;
}

/// No extra work: the segments only.
pub struct SegmentsOnly;

impl DailyVisitor for SegmentsOnly {
    fn visit(&mut self, _: &mut DbConnection, _: &Classified<'_>) -> QueryResult<()> {
        Ok(())
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub today: Option<NaiveDate>,
    pub customers: u64,
    pub changed: u64,
    pub shop_median_gap: Option<f64>,
    /// Customers per segment after the run, in `Segment::ALL` order.
    pub counts: [u64; 5],
}

fn index(segment: Segment) -> usize {
    Segment::ALL.iter().position(|s| *s == segment).unwrap_or(0)
}

/// One page of rows after `after` (member id); `gaps_only`:
/// only customers with two orders or more (the first pass needs nothing else).
fn page(
    conn: &mut DbConnection,
    shop_id: &str,
    after: &str,
    gaps_only: bool,
) -> QueryResult<Vec<Row>> {
    let mut query = customer_facts::table
        .filter(customer_facts::shop_id.eq(shop_id))
        .filter(customer_facts::member_id.gt(after.to_owned()))
        .order(customer_facts::member_id)
        .limit(PAGE)
        .select((
            customer_facts::member_id,
            customer_facts::orders,
            customer_facts::segment,
            customer_facts::win_back_lapse_on,
        ))
        .into_boxed();
    if gaps_only {
        query = query.filter(customer_facts::order_count.ge(2));
    }
    query.load(conn)
}

/// `(member_id, orders, segment, win_back_lapse_on)`.
type Row = (String, String, Option<String>, Option<NaiveDate>);
/// A classified row: `(member_id, facts, previous segment, segment, win_back_lapse_on)`.
type Visit<'a> = (
    &'a str,
    PurchaseFacts,
    Option<Segment>,
    Option<Segment>,
    Option<NaiveDate>,
);

fn parse(orders: &str) -> PurchaseFacts {
    serde_json::from_str(orders).unwrap_or_default()
}

/// The shop's median gap between orders, over every customer's kept gaps.
pub fn shop_median_gap(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Option<f64>> {
    let mut gaps = ShopGaps::new();
    let mut after = String::new();
    loop {
        let rows = page(conn, shop_id, &after, true)?;
        let Some((last, ..)) = rows.last() else {
            break;
        };
        after = last.clone();
        for (_, orders, ..) in &rows {
            gaps.add_customer(&parse(orders));
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    Ok(gaps.median())
}

/// Recomputes the shop's segments as of `now` (the shop's local day), visiting each customer.
pub fn run(
    conn: &mut DbConnection,
    shop: &Shop,
    now: NaiveDateTime,
    visitor: &mut dyn DailyVisitor,
) -> QueryResult<Report> {
    let program = Program::of(shop);
    let lapse: LapseRule = program.lapse_rule();
    let today = calendar::local_date(calendar::zone(&shop.timezone), now);
    let median = shop_median_gap(conn, &shop.id)?;
    let mut report = Report {
        today: Some(today),
        shop_median_gap: median,
        ..Report::default()
    };
    let mut after = String::new();
    loop {
        let rows = page(conn, &shop.id, &after, false)?;
        let Some((last, ..)) = rows.last() else {
            break;
        };
        after = last.clone();
        let full = rows.len() as i64 == PAGE;
        // Members whose segment changed, by their new segment (`None`: no segment).
        let mut changed: [Vec<&str>; 6] = Default::default();
        let classified: Vec<Visit<'_>> = rows
            .iter()
            .map(|(member_id, orders, stored, entered)| {
                let facts = parse(orders);
                let previous = stored.as_deref().and_then(Segment::parse);
                let segment = classify(&facts, today, median, lapse);
                (member_id.as_str(), facts, previous, segment, *entered)
            })
            .collect();
        for (member_id, _, previous, segment, _) in &classified {
            report.customers += 1;
            if let Some(n) = segment.and_then(|s| report.counts.get_mut(index(s))) {
                *n += 1;
            }
            if previous != segment {
                if let Some(members) = changed.get_mut(segment.map_or(5, index)) {
                    members.push(member_id);
                }
            }
        }
        write_transaction(conn, |c| {
            for (member_id, facts, previous, segment, entered) in &classified {
                visitor.visit(
                    c,
                    &Classified {
                        member_id,
                        facts,
                        previous: *previous,
                        segment: *segment,
                        today,
                        win_back_lapse_on: *entered,
                    },
                )?;
            }
            for (i, members) in changed.iter().enumerate() {
                if members.is_empty() {
                    continue;
                }
                let segment = Segment::ALL.get(i).map(|s| s.as_str());
                report.changed += diesel::update(
                    customer_facts::table
                        .filter(customer_facts::shop_id.eq(&shop.id))
                        .filter(customer_facts::member_id.eq_any(members)),
                )
                .set((
                    customer_facts::segment.eq(segment),
                    customer_facts::segment_on.eq(Some(today)),
                ))
                .execute(c)? as u64;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        if !full {
            break;
        }
    }
    Ok(report)
}
