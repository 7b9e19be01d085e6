//! `boomerang seed-customers`: a shop's members with ~3 years of order history and their purchase
//! facts, for measuring the daily segmentation at scale. Bulk multi-row inserts of generated
//! values (numbers, dates, ids and JSON we make ourselves, never outside input) in large
//! transactions, so a million customers take well under a minute. Deterministic per seed.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::QueryResult;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{write_transaction, DbConnection};
use crate::domain::retention::{order_key, CountedOrder, PurchaseFacts};
use crate::services::retention::facts::row_of;

/// Customers per multi-row statement (members: 13 values each, well under SQLite's limits).
const CHUNK: usize = 2_000;
/// Customers per transaction.
const PER_TRANSACTION: usize = 50_000;
/// The history reaches this many days back.
const HISTORY_DAYS: i64 = 3 * 365;

/// What was seeded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub customers: u64,
    pub orders: u64,
}

/// One generated customer's orders: `(day, amount_minor)`, oldest first.
fn history(rng: &mut StdRng, today: NaiveDate) -> Vec<(NaiveDate, i64)> {
    let first = today - Duration::days(rng.gen_range(0..HISTORY_DAYS));
    // A personal rhythm: weekly buyers to twice a year.
    const RHYTHMS: [i64; 8] = [14, 21, 30, 45, 60, 90, 120, 180];
    let rhythm = RHYTHMS
        .get(rng.gen_range(0..RHYTHMS.len()))
        .copied()
        .unwrap_or(30);
    let mut orders = vec![(first, rng.gen_range(1_000..20_000))];
    // About a third come back once; of those, a little over half keep coming back.
    let mut stays = 0.35;
    let mut day = first;
    while orders.len() < 40 && rng.gen_bool(stays) {
        let jitter = rng.gen_range(-rhythm / 3..=rhythm / 3);
        day += Duration::days((rhythm + jitter).max(1));
        if day > today {
            break;
        }
        orders.push((day, rng.gen_range(1_000..20_000)));
        stays = 0.6;
    }
    orders
}

fn timestamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Seeds `count` customers of `shop_id` (whose history ends on `today`, UTC noon orders).
pub fn seed(
    conn: &mut DbConnection,
    shop_id: &str,
    count: u64,
    seed: u64,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Seeded> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seeded = Seeded::default();
    let created = timestamp(now);
    let mut next = 0u64;
    while next < count {
        let batch_end = (next + PER_TRANSACTION as u64).min(count);
        write_transaction(conn, |c| {
            while next < batch_end {
                let end = (next + CHUNK as u64).min(batch_end);
                let mut members = String::with_capacity(CHUNK * 260);
                let mut orders = String::with_capacity(CHUNK * 600);
                let mut facts = String::with_capacity(CHUNK * 300);
                for n in next..end {
                    let member_id = uuid::Uuid::from_u64_pair(seed, n + 1).to_string();
                    let customer = format!("seed-{seed}-{n}");
                    let sep = if members.is_empty() { "" } else { "," };
                    members.push_str(&format!(
                        "{sep}('{member_id}','{shop_id}','{customer}','{customer}@example.com','0',0,0,0,'{created}','{created}','0','qualified')"
                    ));
                    let placed = history(&mut rng, today);
                    let mut kept = Vec::with_capacity(placed.len());
                    for (i, (day, amount)) in placed.iter().enumerate() {
                        let order_id = format!("{customer}-{i}");
                        let at = timestamp(day.and_hms_opt(12, 0, 0).unwrap_or_default());
                        let sep = if orders.is_empty() { "" } else { "," };
                        orders.push_str(&format!(
                            "{sep}('{member_id}-{i}','{shop_id}','{order_id}','{member_id}','paid','0','USD',{amount},{amount},0,'{{}}','{at}','{at}','{created}','{created}')"
                        ));
                        let counted = CountedOrder {
                            date: *day,
                            net_minor: *amount,
                        };
                        kept.push((order_key(&order_id), counted));
                        seeded.orders += 1;
                    }
                    let row = row_of(
                        shop_id,
                        &member_id,
                        &PurchaseFacts::from_orders(kept),
                        None,
                        now,
                    );
                    let sep = if facts.is_empty() { "" } else { "," };
                    let date =
                        |d: Option<NaiveDate>| d.map_or("NULL".to_owned(), |d| format!("'{d}'"));
                    let median = row
                        .median_gap_days
                        .map_or("NULL".to_owned(), |m| format!("{m:.1}"));
                    facts.push_str(&format!(
                        "{sep}('{member_id}','{shop_id}',{},{},{},{},{median},'{}',NULL,NULL,'{created}')",
                        date(row.first_order_on),
                        date(row.last_order_on),
                        row.order_count,
                        row.net_spend_minor,
                        row.orders.replace('\'', "''"),
                    ));
                    seeded.customers += 1;
                }
                let sql = format!(
                    "INSERT INTO members (id, shop_id, platform_customer_id, email, accepts_marketing, points_balance, pending_points, lifetime_points, created_at, updated_at, email_verified, tier_held_by) VALUES {members};
                     INSERT INTO orders (id, shop_id, platform_order_id, member_id, financial_status, cancelled, currency, subtotal_minor, total_minor, refunded_minor, snapshot, placed_at, platform_updated_at, created_at, updated_at) VALUES {orders};
                     INSERT INTO customer_facts (member_id, shop_id, first_order_on, last_order_on, order_count, net_spend_minor, median_gap_days, orders, segment, segment_on, updated_at) VALUES {facts};"
                );
                crate::per_backend!(&mut *c, |c| c.batch_execute(&sql))?;
                next = end;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    Ok(seeded)
}

/// Switches win-back on for a seeded shop with the contract's example settings, so the daily
/// pass's win-back selection is measured too.
pub fn switch_on_win_back(conn: &mut DbConnection, shop_id: &str) -> anyhow::Result<()> {
    use diesel::prelude::*;

    use crate::db::models::Shop;
    use crate::db::schema::shops;
    let shop = Shop::find(conn, shop_id)?;
    let mut program = crate::services::program::Program::of(&shop);
    program.win_back = Some(serde_json::from_value(serde_json::json!({
        "enabled": true, "after_days": 90,
        "steps": [{"delay_days": 0, "reward": {"kind": "fixed_amount", "amount_minor": 500, "expires_days": 14}},
                  {"delay_days": 14}],
        "holdout_pct": 10,
        "subject_variants": [{"id": "a", "subject": {"en": "We miss you"}},
                             {"id": "b", "subject": {"en": "A little something to come back for"}}]
    }))?);
    diesel::update(shops::table.find(shop_id))
        .set(shops::program.eq(serde_json::to_string(&program)?))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_history_lies_within_three_years_oldest_first() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let mut repeat = 0;
        for _ in 0..2_000 {
            let orders = history(&mut rng, today);
            assert!(!orders.is_empty());
            assert!(orders.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(orders
                .iter()
                .all(|(d, _)| *d <= today && (today - *d).num_days() < HISTORY_DAYS));
            repeat += usize::from(orders.len() > 1);
        }
        // About a third of customers order again.
        assert!((500..900).contains(&repeat), "{repeat}");
    }
}
