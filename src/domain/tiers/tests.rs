//! The evaluation at every window × grace boundary (the basis only changes the unit, see
//! `contribution.rs`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn act(on: &str, amount: i64) -> Activity {
    Activity {
        on: day(on),
        amount,
    }
}

fn program(window: Window, grace_days: u32) -> TierProgram {
    let level = |id: &str, threshold| TierLevel {
        id: id.into(),
        name: id.into(),
        names: BTreeMap::new(),
        threshold,
        earn_multiplier_pct: 100,
        perks: vec![],
        entry_reward_id: None,
        customer_tag: None,
    };
    TierProgram {
        basis: Basis::PointsEarned,
        window,
        grace_days,
        levels: vec![level("bronze", 0), level("silver", 300), level("gold", 900)],
    }
}

fn state(tier: Option<&str>, held_by: HeldBy, review_at: Option<&str>) -> TierState {
    TierState {
        tier: tier.map(str::to_owned),
        held_by,
        review_at: review_at.map(day),
    }
}

fn eval(p: &TierProgram, s: &TierState, a: &[Activity], today: &str, o: Occasion) -> Evaluation {
    evaluate(p, s, a, &[], day(today), o)
}

#[test]
fn windows_count_what_they_should() {
    let a = [
        act("2025-06-01", 100),
        act("2026-01-01", 200),
        act("2026-11-30", 50),
    ];
    let past = &a[..2];
    assert_eq!(standing(Window::Lifetime, &a, day("2026-11-30")), 350);
    assert_eq!(standing(Window::CalendarYear, &a, day("2026-11-30")), 250);
    assert_eq!(standing(Window::CalendarYear, &a, day("2027-01-01")), 0);
    // A day's activity counts on that day and the 364 after it.
    assert_eq!(
        standing(Window::Rolling12Months, past, day("2026-05-31")),
        300
    );
    assert_eq!(
        standing(Window::Rolling12Months, past, day("2026-06-01")),
        200
    );
}

#[test]
fn a_member_below_the_first_level_has_no_tier_and_upgrades_at_once() {
    let mut p = program(Window::Lifetime, 30);
    p.levels.remove(0);
    let none = TierState::default();
    let e = eval(
        &p,
        &none,
        &[act("2026-01-01", 299)],
        "2026-01-01",
        Occasion::Activity,
    );
    assert_eq!((e.state.tier, e.change), (None, None));
    let e = eval(
        &p,
        &none,
        &[act("2026-01-01", 900)],
        "2026-01-01",
        Occasion::Activity,
    );
    assert_eq!(
        e.state.tier.as_deref(),
        Some("gold"),
        "skips levels at once"
    );
    let change = e.change.unwrap();
    assert_eq!((change.from, change.reason), (None, Reason::Qualified));
    assert_eq!(
        e.state.review_at, None,
        "lifetime qualification never lapses by itself"
    );
}

#[test]
fn lifetime_refund_starts_grace_and_the_review_downgrades_after_it() {
    let p = program(Window::Lifetime, 30);
    let gold = state(Some("gold"), HeldBy::Qualified, None);
    let after_refund = [act("2026-01-01", 400)];
    let e = eval(&p, &gold, &after_refund, "2026-03-01", Occasion::Activity);
    assert!(e.grace_started);
    assert_eq!(e.change, None, "never down at once");
    assert_eq!(
        e.state,
        state(Some("gold"), HeldBy::Grace, Some("2026-04-01"))
    );
    // The last day of grace keeps gold; the next review moves down one level.
    let e2 = eval(&p, &e.state, &after_refund, "2026-03-31", Occasion::Review);
    assert_eq!(e2.state.tier.as_deref(), Some("gold"));
    assert!(!e2.grace_started, "grace starts once");
    let e3 = eval(&p, &e.state, &after_refund, "2026-04-01", Occasion::Review);
    assert_eq!(e3.state.tier.as_deref(), Some("silver"));
    assert_eq!(e3.change.unwrap().reason, Reason::GraceEnded);
    // An event (not a review) on the due day does not downgrade: only the review does.
    let e4 = eval(
        &p,
        &e.state,
        &after_refund,
        "2026-04-01",
        Occasion::Activity,
    );
    assert_eq!(e4.state.tier.as_deref(), Some("gold"));
}

#[test]
fn downgrades_go_one_level_per_review_and_never_below_what_they_qualify_for() {
    let p = program(Window::Lifetime, 0);
    let gold = state(Some("gold"), HeldBy::Grace, Some("2026-02-01"));
    let nothing: [Activity; 0] = [];
    let e = eval(&p, &gold, &nothing, "2026-02-01", Occasion::Review);
    assert_eq!(
        e.state,
        state(Some("silver"), HeldBy::Grace, Some("2026-02-02"))
    );
    let e = eval(&p, &e.state, &nothing, "2026-02-02", Occasion::Review);
    assert_eq!(e.state.tier.as_deref(), Some("bronze"));
    assert_eq!(
        e.state.held_by,
        HeldBy::Qualified,
        "bronze (0) is what they qualify for"
    );
    let e = eval(&p, &e.state, &nothing, "2026-02-03", Occasion::Review);
    assert_eq!(e.change, None);
}

#[test]
fn requalifying_during_grace_ends_it() {
    let p = program(Window::Lifetime, 30);
    let grace = state(Some("gold"), HeldBy::Grace, Some("2026-04-01"));
    let e = eval(
        &p,
        &grace,
        &[act("2026-03-10", 950)],
        "2026-03-10",
        Occasion::Activity,
    );
    assert_eq!(e.state, state(Some("gold"), HeldBy::Qualified, None));
    assert_eq!(e.change, None);
}

#[test]
fn calendar_year_keeps_the_tier_until_grace_after_31_december() {
    let p = program(Window::CalendarYear, 30);
    let none = TierState::default();
    let a = [act("2026-03-01", 950)];
    let e = eval(&p, &none, &a, "2026-03-01", Occasion::Activity);
    // Qualifies through 31 December; the review looks again on 1 January.
    assert_eq!(
        e.state,
        state(Some("gold"), HeldBy::Qualified, Some("2027-01-01"))
    );
    let jan = eval(&p, &e.state, &a, "2027-01-01", Occasion::Review);
    assert!(jan.grace_started);
    assert_eq!(
        jan.state,
        state(Some("gold"), HeldBy::Grace, Some("2027-01-31"))
    );
    assert_eq!(
        eval(&p, &jan.state, &a, "2027-01-30", Occasion::Review).change,
        None
    );
    let down = eval(&p, &jan.state, &a, "2027-01-31", Occasion::Review);
    assert_eq!(down.state.tier.as_deref(), Some("silver"));
    // A refund in June takes the activity back, but the period they qualified in still ends on
    // 31 December: the grace runs from there.
    let refunded = eval(
        &p,
        &e.state,
        &[act("2026-03-01", 100)],
        "2026-06-15",
        Occasion::Activity,
    );
    assert_eq!(
        refunded.state,
        state(Some("gold"), HeldBy::Grace, Some("2027-01-31"))
    );
}

#[test]
fn rolling_window_slides_and_enters_grace_without_any_event() {
    let p = program(Window::Rolling12Months, 30);
    let a = [act("2026-01-10", 500), act("2026-02-20", 500)];
    let e = eval(
        &p,
        &TierState::default(),
        &a,
        "2026-02-20",
        Occasion::Activity,
    );
    // 2026-01-10 leaves the window on 2027-01-10, dropping them to 500 (< 900).
    assert_eq!(
        e.state,
        state(Some("gold"), HeldBy::Qualified, Some("2027-01-10"))
    );
    assert_eq!(
        qualifies_until(Window::Rolling12Months, &a, 900, day("2026-02-20")),
        Some(day("2027-01-09"))
    );
    assert_eq!(
        qualifies_until(Window::Rolling12Months, &a, 500, day("2026-02-20")),
        Some(day("2027-02-19"))
    );
    let still = eval(&p, &e.state, &a, "2027-01-09", Occasion::Review);
    assert_eq!(still.state.tier.as_deref(), Some("gold"));
    let aged = eval(&p, &e.state, &a, "2027-01-10", Occasion::Review);
    assert!(aged.grace_started);
    // Last qualified on 9 January, kept 30 days more.
    assert_eq!(
        aged.state,
        state(Some("gold"), HeldBy::Grace, Some("2027-02-09"))
    );
    let down = eval(&p, &aged.state, &a, "2027-02-09", Occasion::Review);
    assert_eq!(down.state.tier.as_deref(), Some("silver"));
    assert_eq!(down.state.held_by, HeldBy::Qualified);
    assert_eq!(
        down.state.review_at,
        Some(day("2027-02-20")),
        "silver lapses when 20 Feb leaves"
    );
    // A review that runs late (the scheduler was down) still dates grace from the lapse.
    let late = eval(&p, &e.state, &a, "2027-01-20", Occasion::Review);
    assert_eq!(late.state.review_at, Some(day("2027-02-09")));
}

#[test]
fn zero_grace_downgrades_at_the_first_review_after_the_lapse() {
    let p = program(Window::Lifetime, 0);
    let gold = state(Some("gold"), HeldBy::Qualified, None);
    let e = eval(
        &p,
        &gold,
        &[act("2026-01-01", 400)],
        "2026-03-01",
        Occasion::Activity,
    );
    assert_eq!(e.state.review_at, Some(day("2026-03-02")));
    let d = eval(
        &p,
        &e.state,
        &[act("2026-01-01", 400)],
        "2026-03-02",
        Occasion::Review,
    );
    assert_eq!(d.state.tier.as_deref(), Some("silver"));
}

#[test]
fn a_grant_holds_its_tier_until_it_ends_then_the_member_returns_to_what_they_qualify_for() {
    let p = program(Window::Lifetime, 30);
    let grant = Grant {
        tier: "gold".into(),
        from: day("2026-01-01"),
        until: day("2027-01-01"),
    };
    let a = [act("2026-01-01", 350)];
    let e = evaluate(
        &p,
        &TierState::default(),
        &a,
        std::slice::from_ref(&grant),
        day("2026-01-01"),
        Occasion::Activity,
    );
    assert_eq!(
        e.state,
        state(Some("gold"), HeldBy::Membership, Some("2027-01-01"))
    );
    assert_eq!(e.change.unwrap().reason, Reason::Membership);
    let still = evaluate(
        &p,
        &e.state,
        &a,
        std::slice::from_ref(&grant),
        day("2026-12-31"),
        Occasion::Review,
    );
    assert_eq!(still.change, None);
    let ended = evaluate(
        &p,
        &e.state,
        &a,
        std::slice::from_ref(&grant),
        day("2027-01-01"),
        Occasion::Review,
    );
    assert_eq!(ended.state, state(Some("silver"), HeldBy::Qualified, None));
    assert_eq!(ended.change.unwrap().reason, Reason::Membership);
    // Refunding the membership (no grant any more) ends it at the next evaluation.
    let refunded = evaluate(&p, &e.state, &a, &[], day("2026-02-01"), Occasion::Activity);
    assert_eq!(refunded.state.tier.as_deref(), Some("silver"));
    // Qualifying for the granted tier by activity makes it qualification, not membership.
    let earned = evaluate(
        &p,
        &e.state,
        &[act("2026-02-01", 950)],
        std::slice::from_ref(&grant),
        day("2026-02-01"),
        Occasion::Activity,
    );
    assert_eq!(earned.state, state(Some("gold"), HeldBy::Qualified, None));
}

#[test]
fn editing_the_program_upgrades_at_once_and_downgrades_through_grace() {
    let mut p = program(Window::Lifetime, 30);
    let silver = state(Some("silver"), HeldBy::Qualified, None);
    let a = [act("2026-01-01", 500)];
    p.levels[2].threshold = 400;
    let up = eval(&p, &silver, &a, "2026-05-01", Occasion::ProgramChanged);
    assert_eq!(up.change.unwrap().reason, Reason::ProgramChanged);
    assert_eq!(up.state.tier.as_deref(), Some("gold"));
    let mut harder = program(Window::Lifetime, 30);
    harder.levels[1].threshold = 600;
    let kept = eval(&harder, &silver, &a, "2026-05-01", Occasion::ProgramChanged);
    assert_eq!(
        kept.state,
        state(Some("silver"), HeldBy::Grace, Some("2026-06-01"))
    );
    // A removed level: its members go to what they qualify for at once.
    let mut fewer = program(Window::Lifetime, 30);
    fewer.levels.remove(1);
    let moved = eval(&fewer, &silver, &a, "2026-05-01", Occasion::ProgramChanged);
    assert_eq!(moved.state.tier.as_deref(), Some("bronze"));
    assert_eq!(moved.change.unwrap().reason, Reason::ProgramChanged);
    // No tiers at all: nobody has one.
    let none = TierProgram {
        levels: vec![],
        ..program(Window::Lifetime, 30)
    };
    assert_eq!(
        eval(&none, &silver, &a, "2026-05-01", Occasion::ProgramChanged)
            .state
            .tier,
        None
    );
}

#[test]
fn progress_says_how_far_the_next_tier_and_what_keeps_this_one() {
    let p = program(Window::Lifetime, 30);
    let a = [act("2026-01-01", 350)];
    let silver = state(Some("silver"), HeldBy::Qualified, None);
    let pr = progress(&p, &silver, &a, day("2026-02-01"));
    assert_eq!(pr.next_tier.as_deref(), Some("gold"));
    assert_eq!(
        (pr.standing, pr.to_next_tier, pr.to_keep_tier),
        (350, 550, 0)
    );
    let gold_in_grace = state(Some("gold"), HeldBy::Grace, Some("2026-03-01"));
    let pr = progress(&p, &gold_in_grace, &a, day("2026-02-01"));
    assert_eq!(
        (pr.next_tier, pr.to_next_tier, pr.to_keep_tier),
        (None, 0, 550)
    );
    let member = state(Some("gold"), HeldBy::Membership, Some("2027-01-01"));
    assert_eq!(progress(&p, &member, &a, day("2026-02-01")).to_keep_tier, 0);
}
