//! Ledger invariants, property-tested against the real database under test:
//! the cached balances always equal the sums of the ledger, never go below zero, and replaying
//! any sequence of postings changes nothing, whether posted as `post` does or as
//! `post_expecting_new` does (an order's first award: the balance moved first, the line after
//! it, the move taken back when the line was there) or held to the end of an applier batch as
//! `post_award` holds it (a batch whose held award was posted before is rolled back and applied
//! again one posting at a time, as the applier does).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use boomerang::db::models::Member;
use boomerang::db::schema::ledger_entries;
use boomerang::db::{now, write_transaction, Db, DbConnection};
use boomerang::domain::points::{LedgerKind, LedgerStatus};
use boomerang::services::batch::Batch;
use boomerang::services::ledger::{
    confirm_due, post, post_award, post_expecting_new, write_held, write_held_for_order,
    LedgerError, Posted, Posting, WhenShort,
};

use crate::helpers::TestApp;

#[derive(Debug, Clone)]
enum Op {
    /// Points for order `order`, pending for 14 days.
    Earn { order: u8, points: i64 },
    /// Take back up to `points` of order `order`'s award (a refund).
    Reverse { order: u8, points: i64 },
    /// A manual change, refused if it would overdraw.
    Adjust { points: i64 },
    /// Time passes to day `day` and due points are confirmed.
    Confirm { day: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0i64..500).prop_map(|(order, points)| Op::Earn { order, points }),
        (0u8..6, 1i64..600).prop_map(|(order, points)| Op::Reverse { order, points }),
        (-400i64..400)
            .prop_filter("non-zero", |p| *p != 0)
            .prop_map(|points| Op::Adjust { points }),
        (0i64..30).prop_map(|day| Op::Confirm { day }),
    ]
}

/// Order `order`'s award, pending for 14 days.
fn award(shop: &str, member: &str, order: u8, points: i64, t0: NaiveDateTime) -> Posting {
    let mut p = posting(
        shop,
        member,
        points,
        LedgerKind::Earn,
        LedgerStatus::Pending,
    );
    (p.source, p.source_id, p.action) = ("order".into(), order.to_string(), "earn".into());
    p.confirms_at = Some(t0 + Duration::days(14));
    p
}

/// Awards applied as an applier batch applies new orders: in one transaction with a batch open,
/// each held to its end (the member read as the event reads it, after what the batch holds
/// for the same order is written). Some of the orders were awarded before: the batch's end
/// finds their keys, fails, and the awards are applied again one at a time, as `apply` does.
fn apply_awards_as_batch(
    c: &mut DbConnection,
    shop: &str,
    member: &str,
    t0: NaiveDateTime,
    run: &[(usize, Op)],
) -> Vec<Posting> {
    let together: Result<Vec<Posting>, LedgerError> = write_transaction(c, |c| {
        let batch = Batch::begin();
        let mut made = Vec::new();
        for (_, op) in run {
            let Op::Earn { order, points } = op else {
                unreachable!("only awards are held")
            };
            let p = award(shop, member, *order, *points, t0);
            write_held_for_order(c, shop, &p.source_id)?;
            let read = Member::find(c, shop, member)?;
            post_award(c, &p, &read, t0)?;
            made.push(p);
        }
        batch.finish(c, true)?;
        Ok(made)
    });
    match together {
        Ok(made) => made,
        Err(_) => run
            .iter()
            .filter_map(|(i, op)| apply(c, shop, member, t0, *i, op))
            .collect(),
    }
}

fn posting(
    shop_id: &str,
    member_id: &str,
    delta: i64,
    kind: LedgerKind,
    status: LedgerStatus,
) -> Posting {
    Posting {
        shop_id: shop_id.into(),
        member_id: member_id.into(),
        delta,
        kind,
        status,
        reason: None,
        source: String::new(),
        source_id: String::new(),
        action: String::new(),
        detail: None,
        confirms_at: None,
        when_short: WhenShort::Refuse,
    }
}

/// Applies `op` number `index` the way the services do: reversals take back at most what the
/// order earned, as a pending line while the award is pending and a confirmed one after.
/// Returns the posting made, if any, for the replay.
fn apply(
    c: &mut DbConnection,
    shop: &str,
    member: &str,
    t0: NaiveDateTime,
    index: usize,
    op: &Op,
) -> Option<Posting> {
    let mut made = None;
    let outcome: Result<(), LedgerError> = write_transaction(c, |c| {
        match op {
            Op::Earn { order, points } => {
                let p = award(shop, member, *order, *points, t0);
                // Half the orders' awards posted the way a new order's is.
                if order % 2 == 0 {
                    post_expecting_new(c, &p, t0)?;
                } else {
                    post(c, &p, t0)?;
                }
                made = Some(p);
            }
            Op::Reverse { order, points } => {
                let lines: Vec<(i64, String, String)> = ledger_entries::table
                    .filter(ledger_entries::shop_id.eq(shop))
                    .filter(ledger_entries::source.eq("order"))
                    .filter(ledger_entries::source_id.eq(order.to_string()))
                    .select((
                        ledger_entries::delta,
                        ledger_entries::status,
                        ledger_entries::action,
                    ))
                    .load(c)?;
                let Some((earned, status, _)) = lines.iter().find(|l| l.2 == "earn").cloned()
                else {
                    return Ok(());
                };
                let reversed: i64 = lines.iter().filter(|l| l.2 != "earn").map(|l| -l.0).sum();
                let take = (*points).min(earned - reversed);
                if take <= 0 {
                    return Ok(());
                }
                let pending = status == "pending";
                let status = if pending {
                    LedgerStatus::Pending
                } else {
                    LedgerStatus::Confirmed
                };
                let mut p = posting(shop, member, -take, LedgerKind::Reversal, status);
                (p.source, p.source_id, p.action) = (
                    "order".into(),
                    order.to_string(),
                    format!("reverse-{index}"),
                );
                p.confirms_at = pending.then(|| t0 + Duration::days(14));
                p.when_short = WhenShort::TakeWhatIsThere;
                post(c, &p, t0)?;
                made = Some(p);
            }
            Op::Adjust { points } => {
                let mut p = posting(
                    shop,
                    member,
                    *points,
                    LedgerKind::Adjustment,
                    LedgerStatus::Confirmed,
                );
                (p.source, p.source_id, p.action) =
                    ("admin".into(), index.to_string(), "adjust".into());
                match post(c, &p, t0) {
                    // Refused: nothing was written, so there is nothing to replay.
                    Err(LedgerError::InsufficientPoints { .. }) => {}
                    other => {
                        other?;
                        made = Some(p);
                    }
                }
            }
            Op::Confirm { day } => {
                confirm_due(c, shop, t0 + Duration::days(*day))?;
            }
        }
        Ok(())
    });
    outcome.unwrap();
    made
}

fn check_invariants(c: &mut DbConnection, shop: &str, member_id: &str) -> Member {
    let m = Member::find(c, shop, member_id).unwrap();
    let mut sum = |status: &str| -> i64 {
        ledger_entries::table
            .filter(ledger_entries::member_id.eq(member_id))
            .filter(ledger_entries::status.eq(status))
            .select(ledger_entries::delta)
            .load::<i64>(c)
            .unwrap()
            .into_iter()
            .sum()
    };
    assert_eq!(
        m.points_balance,
        sum("confirmed"),
        "balance = sum of confirmed lines"
    );
    assert_eq!(
        m.pending_points,
        sum("pending"),
        "pending = sum of pending lines"
    );
    assert!(
        m.points_balance >= 0 && m.pending_points >= 0,
        "never below zero"
    );
    m
}

#[tokio::test]
async fn balances_equal_the_ledger_and_replays_change_nothing() {
    let app = TestApp::spawn().await;
    let db: Db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        // The runner takes an `Fn`: the connection and case counter live in cells.
        let conn = std::cell::RefCell::new(db.get().unwrap());
        let case = std::cell::Cell::new(0usize);
        let mut runner = TestRunner::new(ProptestConfig {
            cases: 24,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(&proptest::collection::vec(op(), 1..40), |ops| {
                case.set(case.get() + 1);
                let mut guard = conn.borrow_mut();
                let c: &mut DbConnection = &mut guard;
                let (shop, member) = new_member(c, case.get());
                let t0 = now();
                let mut postings = Vec::new();
                let mut ops = ops.iter().cloned().enumerate().peekable();
                while let Some((i, op)) = ops.next() {
                    // Awards of orders divisible by three go in applier batches of up to four.
                    let held = |op: &Op| matches!(op, Op::Earn { order, .. } if order % 3 == 0);
                    if held(&op) {
                        let mut run = vec![(i, op)];
                        while run.len() < 4 {
                            match ops.next_if(|(_, op)| held(op)) {
                                Some(next) => run.push(next),
                                None => break,
                            }
                        }
                        postings.extend(apply_awards_as_batch(c, &shop, &member, t0, &run));
                    } else {
                        postings.extend(apply(c, &shop, &member, t0, i, &op));
                    }
                    check_invariants(c, &shop, &member);
                }
                let before = check_invariants(c, &shop, &member);
                let lines_before: i64 = ledger_entries::table
                    .filter(ledger_entries::member_id.eq(&member))
                    .count()
                    .get_result(c)
                    .unwrap();
                // Replay every posting (same keys), in reverse order, every other one as a new
                // order's award would be posted: nothing changes.
                for (i, p) in postings.iter().enumerate().rev() {
                    let replay = if i % 2 == 0 {
                        write_transaction(c, |c| post_expecting_new(c, p, t0))
                    } else {
                        write_transaction(c, |c| post(c, p, t0))
                    };
                    prop_assert_eq!(replay.unwrap(), Posted::AlreadyPosted);
                }
                let after = check_invariants(c, &shop, &member);
                let lines_after: i64 = ledger_entries::table
                    .filter(ledger_entries::member_id.eq(&member))
                    .count()
                    .get_result(c)
                    .unwrap();
                prop_assert_eq!(lines_before, lines_after);
                prop_assert_eq!(
                    (
                        before.points_balance,
                        before.pending_points,
                        before.lifetime_points
                    ),
                    (
                        after.points_balance,
                        after.pending_points,
                        after.lifetime_points
                    )
                );
                Ok(())
            })
            .unwrap();
    })
    .await
    .unwrap();
}

fn new_member(c: &mut DbConnection, case: usize) -> (String, String) {
    let keys = boomerang::crypto::Keys::derive(&"k".repeat(32).into());
    let shop = boomerang::services::shops::add_shop(
        c,
        &keys,
        &boomerang::services::shops::ShopSpec {
            platform: Some(boomerang::db::types::Platform::Shopify),
            domain: format!(
                "prop-{case}-{}.myshopify.com",
                uuid::Uuid::new_v4().simple()
            ),
            ..Default::default()
        },
    )
    .unwrap()
    .shop;
    let member = crate::helpers::insert_member(c, &shop.id, Some("1"), None);
    (shop.id, member.id)
}

#[tokio::test]
async fn a_credit_past_the_balance_limit_is_refused_and_balances_still_equal_the_ledger() {
    use boomerang::domain::points::MAX_BALANCE;
    let app = TestApp::spawn().await;
    app.with_db(|c| {
        let (shop, member) = new_member(c, 0);
        // `as_new`: posted as a new order's award is.
        let mut posted = |delta, status, key: &str, as_new: bool| {
            let kind = if delta < 0 {
                LedgerKind::Redeem
            } else {
                LedgerKind::Earn
            };
            let mut p = posting(&shop, &member, delta, kind, status);
            p.source_id = key.into();
            if as_new {
                write_transaction(c, |c| post_expecting_new(c, &p, now()))
            } else {
                write_transaction(c, |c| post(c, &p, now()))
            }
        };
        // Pending and spendable points count together.
        assert!(posted(MAX_BALANCE - 100, LedgerStatus::Pending, "a", false).is_ok());
        assert!(posted(90, LedgerStatus::Confirmed, "b", false).is_ok());
        for (delta, key) in [(11, "c"), (i64::MAX, "d")] {
            let refused = posted(delta, LedgerStatus::Confirmed, key, false);
            assert!(
                matches!(refused, Err(LedgerError::BalanceLimit { .. })),
                "{delta}: {refused:?}"
            );
            let refused = posted(delta, LedgerStatus::Pending, &format!("{key}-new"), true);
            assert!(
                matches!(refused, Err(LedgerError::BalanceLimit { .. })),
                "{delta}: {refused:?}"
            );
        }
        assert!(
            posted(10, LedgerStatus::Confirmed, "e", true).is_ok(),
            "up to the limit, as a new order's award too"
        );
        assert!(
            posted(-5, LedgerStatus::Confirmed, "f", false).is_ok(),
            "debits still work"
        );
        let m = check_invariants(c, &shop, &member);
        assert_eq!(m.points_balance + m.pending_points, MAX_BALANCE - 5);
        assert_eq!(m.lifetime_points, MAX_BALANCE);
    })
    .await;
}

#[tokio::test]
async fn a_held_award_whose_key_was_posted_or_whose_member_moved_past_the_limit_fails_the_batch() {
    use boomerang::domain::points::MAX_BALANCE;
    let app = TestApp::spawn().await;
    app.with_db(|c| {
        let (shop, member) = new_member(c, 0);
        let t0 = now();
        if matches!(c, DbConnection::Sqlite(_)) {
            // Nothing is held on SQLite: the award is written at once, in the batch too.
            write_transaction(c, |c| -> Result<(), LedgerError> {
                let batch = Batch::begin();
                let read = Member::find(c, &shop, &member)?;
                post_award(c, &award(&shop, &member, 1, 100, t0), &read, t0)?;
                assert_eq!(Member::find(c, &shop, &member)?.pending_points, 100);
                batch.finish(c, true)?;
                Ok(())
            })
            .unwrap();
            let m = check_invariants(c, &shop, &member);
            assert_eq!((m.pending_points, m.lifetime_points), (100, 100));
            return;
        }
        let held_then = |c: &mut DbConnection, order: u8, meanwhile: &dyn Fn(&mut DbConnection)| {
            write_transaction(c, |c| -> Result<(), LedgerError> {
                let batch = Batch::begin();
                let read = Member::find(c, &shop, &member)?;
                let posted = post_award(c, &award(&shop, &member, order, 100, t0), &read, t0)?;
                assert!(matches!(posted, Posted::New { applied: 100, .. }));
                // Held: nothing written yet.
                assert_eq!(Member::find(c, &shop, &member)?.pending_points, read.pending_points);
                meanwhile(c);
                write_held(c)?;
                batch.finish(c, true)?;
                Ok(())
            })
        };
        // Written at the batch's end, balance and line.
        held_then(c, 1, &|_| {}).unwrap();
        let m = check_invariants(c, &shop, &member);
        assert_eq!((m.pending_points, m.lifetime_points), (100, 100));
        // The same award again: its key is in the ledger, the batch fails and changes nothing.
        let again = held_then(c, 1, &|_| {});
        assert!(
            matches!(&again, Err(LedgerError::Database(e)) if e.to_string().contains("key is in the ledger")),
            "{again:?}"
        );
        // Another connection's posting took the member near the limit after the event read it.
        // (Written as that posting would move it; the batch's rollback takes it back too.)
        let near_limit = |c: &mut DbConnection| {
            use boomerang::db::schema::members;
            diesel::update(members::table.filter(members::id.eq(&member)))
                .set(members::points_balance.eq(MAX_BALANCE - 150))
                .execute(c)
                .unwrap();
        };
        let past = held_then(c, 2, &near_limit);
        assert!(
            matches!(&past, Err(LedgerError::Database(e)) if e.to_string().contains("balance limit")),
            "{past:?}"
        );
        let m = check_invariants(c, &shop, &member);
        assert_eq!((m.points_balance, m.pending_points, m.lifetime_points), (0, 100, 100));
    })
    .await;
}
