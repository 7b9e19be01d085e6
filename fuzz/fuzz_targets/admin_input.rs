//! What a shop owner sends: the program (`Program::parse`, the body of `PUT /program`, with the
//! reward arithmetic of whatever it holds) and the liability report's days (`reports::period`).
//!
//! Input layout: `D` then `from|to` (an empty side is absent) reads report days; anything else
//! is a program body (a leading `P` is dropped, so seeds can say which they are).

#![no_main]

use boomerang::domain::earning::{MAX_BONUS_POINTS, MAX_POINTS_PER_UNIT};
use boomerang::domain::points::MAX_BALANCE;
use boomerang::domain::rewards::RewardKind;
use boomerang::http::admin::reports::period;
use boomerang::services::program::Program;
use libfuzzer_sys::fuzz_target;

/// Any catalog that parses, even one saved before the caps, prices and discounts without
/// panicking and never makes a discount of zero or less.
fn rewards_never_misbehave(program: &Program) {
    for reward in program.catalog() {
        let mut asked = vec![i64::MIN, -1, 0, 1, 99, i64::MAX];
        if let RewardKind::Variable {
            min_points,
            max_points,
            ..
        } = reward.kind
        {
            asked.extend([min_points, max_points, max_points.saturating_add(1)]);
        }
        for points in asked {
            let price = reward.price(Some(points));
            if let (
                Ok(cost),
                RewardKind::Variable {
                    min_points,
                    max_points,
                    ..
                },
            ) = (price, &reward.kind)
            {
                assert!((*min_points..=*max_points).contains(&cost), "{cost}");
            }
            for minor_per_unit in [1, 100, 1000, 10_000] {
                if let Some(off) = reward.amount_off(price.unwrap_or(points), minor_per_unit) {
                    assert!(off.minor > 0, "{reward:?} gives {off:?}");
                }
            }
        }
    }
}

fn program(body: &[u8]) {
    if let Ok(raw) = serde_json::from_slice::<Program>(body) {
        rewards_never_misbehave(&raw);
    }
    let Ok(program) = Program::parse(body) else {
        return;
    };
    let e = &program.earning;
    assert!((0..=MAX_BONUS_POINTS).contains(&e.signup_points));
    assert!((0..=MAX_BONUS_POINTS).contains(&e.birthday_points));
    assert!(e.points_per_unit <= MAX_POINTS_PER_UNIT && e.unit_size >= 1);
    // A cap keeps a bonus far inside what a member may hold.
    assert!(MAX_BONUS_POINTS < MAX_BALANCE);
    // What the app stores, it reads back as the same program.
    let stored = serde_json::to_vec(&program).unwrap_or_default();
    assert_eq!(Program::parse(&stored).ok(), Some(program), "round trip");
}

fn days(text: &str) {
    let (from, to) = text.split_once('|').unwrap_or((text, ""));
    let present = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let (from, to) = (present(from), present(to));
    for today in [
        "2026-11-30",
        "1970-01-01",
        "9999-12-31",
        "+262142-12-31",
        "-262143-01-01",
    ] {
        let Ok(today) = today.parse() else { continue };
        // The widest period there is: every accepted one lies inside it.
        let widest = period(Some("1970-01-01"), Some("9999-12-31"), today);
        let Ok((first, last)) = widest else {
            panic!("the widest period is refused: {widest:?}");
        };
        let Ok((start, end)) = period(from.as_deref(), to.as_deref(), today) else {
            continue;
        };
        assert!((end - start).num_days() >= 1, "{start} .. {end}");
        if from.is_some() {
            assert!(start >= first, "{start}");
        }
        if to.is_some() {
            assert!(end <= last, "{end}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((b'D', rest)) => days(&String::from_utf8_lossy(rest)),
        Some((b'P', rest)) => program(rest),
        _ => program(data),
    }
});
