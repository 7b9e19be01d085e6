use super::*;

fn parse(json: serde_json::Value) -> Result<WinBackProgram, String> {
    // As `Program::parse` reads it: the path of a bad value is part of the message.
    let program: WinBackProgram =
        serde_path_to_error::deserialize(json).map_err(|e| e.to_string())?;
    program.validate().map_err(|e| e.to_string())?;
    Ok(program)
}

fn contract_example() -> serde_json::Value {
    serde_json::json!({"enabled": true, "after_days": 90,
        "steps": [{"delay_days": 0, "reward": {"kind":"fixed_amount","amount_minor":500,"expires_days":14}},
                  {"delay_days": 14}],
        "holdout_pct": 10,
        "subject_variants": [{"id":"a","subject":{"en":"We miss you"}},
                             {"id":"b","subject":{"en":"A gift for you","ar":"هدية لك"}}]})
}

#[test]
fn the_contract_example_reads_and_round_trips() {
    let program = parse(contract_example()).unwrap();
    assert!(program.enabled);
    assert_eq!(program.lapse_rule(), LapseRule::AfterDays(90));
    assert_eq!(program.steps.len(), 2);
    let reward = program.steps[0].reward.as_ref().unwrap();
    assert_eq!(reward.discount, Discount::FixedAmount { amount_minor: 500 });
    assert_eq!(reward.expires_days, 14);
    assert_eq!(program.steps[1].reward, None);
    assert_eq!(program.holdout_pct, 10);
    assert_eq!(
        program.subject_variants[1].subject_in(Locale::Ar),
        Some("هدية لك")
    );
    assert_eq!(
        program.subject_variants[0].subject_in(Locale::Ar),
        Some("We miss you")
    );
    let again: WinBackProgram =
        serde_json::from_value(serde_json::to_value(&program).unwrap()).unwrap();
    assert_eq!(again, program);
}

#[test]
fn auto_lapse_reads_and_writes_as_the_word() {
    let mut json = contract_example();
    json["after_days"] = serde_json::json!("auto");
    let program = parse(json).unwrap();
    assert_eq!(program.after_days, LapseRule::Auto);
    assert_eq!(
        serde_json::to_value(&program).unwrap()["after_days"],
        serde_json::json!("auto")
    );
}

#[test]
fn defaults_fill_what_is_left_out() {
    let program = parse(serde_json::json!({"steps": [{"delay_days": 0,
        "reward": {"kind": "free_shipping"}}]}))
    .unwrap();
    assert!(!program.enabled);
    assert_eq!(program.after_days, LapseRule::AfterDays(DEFAULT_AFTER_DAYS));
    assert_eq!(program.holdout_pct, 0);
    assert!(program.subject_variants.is_empty());
    assert_eq!(program.steps[0].reward.as_ref().unwrap().expires_days, 30);
}

#[test]
fn every_bad_setting_is_refused_by_name() {
    let cases = [
        ("/after_days", serde_json::json!(0), "after_days"),
        ("/after_days", serde_json::json!(3651), "after_days"),
        ("/after_days", serde_json::json!(-3), "after_days"),
        ("/after_days", serde_json::json!("never"), "after_days"),
        ("/steps", serde_json::json!([]), "steps"),
        (
            "/steps/1/delay_days",
            serde_json::json!(366),
            "steps[1].delay_days",
        ),
        (
            "/steps/0/reward/amount_minor",
            serde_json::json!(0),
            "steps[0].reward.amount_minor",
        ),
        (
            "/steps/0/reward/expires_days",
            serde_json::json!(0),
            "steps[0].reward.expires_days",
        ),
        (
            "/steps/0/reward/expires_days",
            serde_json::json!(366),
            "steps[0].reward.expires_days",
        ),
        (
            "/steps/0/reward/kind",
            serde_json::json!("cash"),
            "steps[0].reward",
        ),
        ("/holdout_pct", serde_json::json!(51), "holdout_pct"),
        (
            "/subject_variants/0/id",
            serde_json::json!(""),
            "subject_variants[0].id",
        ),
        (
            "/subject_variants/0/id",
            serde_json::json!("a b"),
            "subject_variants[0].id",
        ),
        (
            "/subject_variants/1/id",
            serde_json::json!("a"),
            "subject_variants[1].id",
        ),
        (
            "/subject_variants/0/subject",
            serde_json::json!({}),
            "subject_variants[0].subject",
        ),
        (
            "/subject_variants/0/subject",
            serde_json::json!({"fr": "Salut"}),
            "subject_variants[0].subject",
        ),
        (
            "/subject_variants/0/subject/en",
            serde_json::json!(" "),
            "subject_variants[0].subject.en",
        ),
        (
            "/subject_variants/1/subject/ar",
            serde_json::json!("a\r\nBcc: x@y.z"),
            "subject_variants[1].subject.ar",
        ),
    ];
    for (pointer, value, named) in cases {
        let mut json = contract_example();
        *json.pointer_mut(pointer).unwrap() = value;
        let err = parse(json).unwrap_err();
        // serde_path_to_error names a path like `steps[0].reward`; ours name the field.
        let shown = err.replace(['[', ']', '.'], "");
        assert!(
            shown.contains(&named.replace(['[', ']', '.'], "")),
            "{pointer}: {err}"
        );
    }
}

#[test]
fn limits_on_counts_are_refused() {
    let mut six = contract_example();
    six["steps"] = serde_json::json!(vec![serde_json::json!({"delay_days": 1}); 6]);
    assert!(parse(six)
        .unwrap_err()
        .contains("win_back.steps must hold 1–5"));
    let mut five = contract_example();
    five["steps"] = serde_json::json!(vec![serde_json::json!({"delay_days": 1}); 5]);
    assert!(parse(five).is_ok());
    let mut variants = contract_example();
    variants["subject_variants"] =
        serde_json::json!(["a", "b", "c", "d", "e"]
            .map(|id| serde_json::json!({"id": id, "subject": {"en": "Hi"}})));
    assert!(parse(variants).unwrap_err().contains("at most"));
    let mut percent = contract_example();
    percent["steps"][0]["reward"] = serde_json::json!({"kind": "percent", "percent": 101});
    assert!(parse(percent)
        .unwrap_err()
        .contains("steps[0].reward.percent"));
    let mut min = contract_example();
    min["steps"][0]["reward"]["min_order_minor"] = serde_json::json!(-1);
    assert!(parse(min).unwrap_err().contains("min_order_minor"));
    let mut holdout = contract_example();
    holdout["holdout_pct"] = serde_json::json!(50);
    assert!(parse(holdout).is_ok());
}

#[test]
fn unknown_fields_are_refused() {
    let mut top = contract_example();
    top["hold_out"] = serde_json::json!(5);
    assert!(parse(top).unwrap_err().contains("hold_out"));
    let mut step = contract_example();
    step["steps"][1]["delay"] = serde_json::json!(5);
    assert!(parse(step).unwrap_err().contains("delay"));
    let mut variant = contract_example();
    variant["subject_variants"][0]["weight"] = serde_json::json!(2);
    assert!(parse(variant).unwrap_err().contains("weight"));
}
