//! Validation of tiers and memberships.

use super::*;

fn level(id: &str, threshold: i64) -> TierLevel {
    TierLevel {
        id: id.into(),
        name: id.to_uppercase(),
        names: BTreeMap::new(),
        threshold,
        earn_multiplier_pct: 100,
        perks: vec![],
        entry_reward_id: None,
        customer_tag: None,
    }
}

fn program(levels: Vec<TierLevel>) -> TierProgram {
    TierProgram {
        basis: Basis::PointsEarned,
        window: Window::Lifetime,
        grace_days: 30,
        levels,
    }
}

#[test]
fn the_contract_example_parses_with_defaults() {
    let t: TierProgram = serde_json::from_str(
        r#"{"basis":"amount_spent","window":"rolling_12_months","levels":[
            {"id":"silver","name":"Silver","names":{"ar":"فضي"},"threshold":300,
             "earn_multiplier_pct":125,"perks":["Free shipping over 50"],
             "entry_reward_id":null,"customer_tag":"vip-silver"}]}"#,
    )
    .unwrap();
    assert_eq!(t.grace_days, 30);
    assert_eq!(t.basis, Basis::AmountSpent);
    assert_eq!(t.levels[0].name_in(Locale::Ar), "فضي");
    assert!(t.validate().is_ok());
    assert!(serde_json::from_str::<TierProgram>(r#"{"levels":[],"windw":"lifetime"}"#).is_err());
    assert!(serde_json::from_str::<TierProgram>(r#"{"levels":[],"basis":"visits"}"#).is_err());
}

#[test]
fn levels_must_be_sorted_unique_and_in_range() {
    assert!(
        program(vec![level("a", 0), level("b", 300), level("c", 900)])
            .validate()
            .is_ok()
    );
    assert_eq!(
        program(vec![level("a", 300), level("b", 300)]).validate(),
        Err(TierError::Unsorted("b".into()))
    );
    assert_eq!(
        program(vec![level("a", 900), level("b", 300)]).validate(),
        Err(TierError::Unsorted("b".into()))
    );
    assert_eq!(
        program(vec![level("a", 1), level("a", 2)]).validate(),
        Err(TierError::DuplicateId("a".into()))
    );
    assert!(program(vec![level("a", -1)]).validate().is_err());
    assert!(program(vec![level("a b", 1)]).validate().is_err());
    let mut too_much = level("x", 1);
    too_much.earn_multiplier_pct = 1001;
    assert!(matches!(
        program(vec![too_much]).validate(),
        Err(TierError::MultiplierOutOfRange { got: 1001, .. })
    ));
    let mut zero = level("x", 1);
    zero.earn_multiplier_pct = 0;
    assert!(program(vec![zero]).validate().is_ok());
    let mut tag = level("x", 1);
    tag.customer_tag = Some("a,b".into());
    assert!(program(vec![tag]).validate().is_err());
    let mut grace = program(vec![]);
    grace.grace_days = 731;
    assert!(grace.validate().is_err());
}

#[test]
fn references_must_point_at_what_exists() {
    let mut gold = level("gold", 900);
    gold.entry_reward_id = Some("welcome".into());
    let tiers = program(vec![level("silver", 300), gold]);
    assert!(validate_references(Some(&tiers), &[], &["welcome"], &[("r", "gold")]).is_ok());
    assert!(validate_references(Some(&tiers), &[], &["other"], &[]).is_err());
    assert!(validate_references(Some(&tiers), &[], &["welcome"], &[("r", "platinum")]).is_err());
    assert!(validate_references(None, &[], &[], &[("r", "gold")]).is_err());
    let club = |id: &str, product: &str, tier: &str, days| Membership {
        id: id.into(),
        product_id: product.into(),
        tier: tier.into(),
        days,
    };
    assert!(validate_references(
        Some(&tiers),
        &[club("c", "123", "gold", 365)],
        &["welcome"],
        &[]
    )
    .is_ok());
    for bad in [
        club("c", "x1", "gold", 365),
        club("c", "123", "bronze", 365),
        club("c", "123", "gold", 0),
        club("", "123", "gold", 30),
    ] {
        assert!(
            validate_references(Some(&tiers), std::slice::from_ref(&bad), &["welcome"], &[])
                .is_err(),
            "{bad:?}"
        );
    }
    let twice = [club("c", "1", "gold", 1), club("c", "2", "gold", 1)];
    assert!(validate_references(Some(&tiers), &twice, &["welcome"], &[]).is_err());
}

#[test]
fn the_multiplier_of_no_tier_or_an_unknown_one_is_one() {
    let mut gold = level("gold", 900);
    gold.earn_multiplier_pct = 150;
    let tiers = program(vec![gold]);
    assert_eq!(tiers.multiplier_pct(Some("gold")), 150);
    assert_eq!(tiers.multiplier_pct(Some("gone")), 100);
    assert_eq!(tiers.multiplier_pct(None), 100);
}
