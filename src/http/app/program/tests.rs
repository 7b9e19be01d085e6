//! The editor's form against programs of every shape: nothing of the program is left without a
//! field, and posting the form untouched gives back the very same program.

use serde_json::{json, Value};

use super::form::{build, Input, Section};
use super::rebuild::{apply, Entered};
use super::rows::{remove_ticked, skeleton};
use super::summary::place;
use super::words::Words;
use crate::services::program::Program;

fn programs() -> Vec<Value> {
    let rich = json!({
        "earning": {"points_per_unit": 2, "signup_points": 50,
                    "product_multipliers": [{"product_id": "1", "multiplier_pct": 200}],
                    "campaigns": [{"name": "Double", "starts_at": "2026-11-27T00:00:00Z",
                                   "ends_at": "2026-11-30T00:00:00Z", "multiplier_pct": 200}]},
        "rewards": [
            {"id": "5-off", "title": "5 off", "titles": {"ar": "خصم"}, "kind": "fixed_amount",
             "amount_minor": 500, "points_cost": 500},
            {"id": "ship", "title": "Ship", "kind": "free_shipping", "points_cost": 300},
            {"id": "give", "title": "Give", "kind": "donation", "charity": "Red Crescent",
             "amount_minor": 100, "points_cost": 100, "tier": "gold"}
        ],
        "code_prefix": "VIP",
        "expiry": {"mode": "after_inactivity", "months": 12},
        "tiers": {"basis": "orders", "levels": [
            {"id": "silver", "name": "Silver", "threshold": 1},
            {"id": "gold", "name": "Gold", "names": {"ar": "ذهبي"}, "threshold": 3,
             "perks": ["Free shipping"], "customer_tag": "vip"}]},
        "memberships": [{"id": "club", "product_id": "123", "tier": "gold", "days": 365}],
        "referrals": {"enabled": true, "review": "manual", "max_rewards_per_month": 4,
                      "friend_reward": {"kind": "percent", "percent": 10, "expires_days": 30},
                      "referrer_reward": {"points": 500}},
        "emails": {"from": "Shop <hi@shop.example>", "enabled": {"points_earned": false},
                   "policy": {"max_per_week": 3, "quiet_hours": null}},
        "win_back": {"enabled": true, "after_days": "auto", "steps": [{"delay_days": 0},
                     {"delay_days": 7, "reward": {"kind": "percent", "percent": 10, "expires_days": 14}}],
                     "subject_variants": [{"id": "a", "subject": {"en": "Hi"}}]},
        "replenishment": {"enabled": true, "lead_days": 5},
        "widget": {"position": "left", "texts": {"ar": {"guest_heading": "مرحبا"}}}
    });
    [json!({}), rich]
        .into_iter()
        .map(|body| {
            let program = Program::parse(body.to_string().as_bytes()).unwrap();
            serde_json::to_value(program).unwrap()
        })
        .collect()
}

/// What a browser posts for the page as shown: every field's value, a checked box after its
/// hidden "false".
fn untouched(sections: &[Section]) -> Vec<u8> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf", "t");
    for f in sections.iter().flat_map(|s| &s.fields) {
        match f.input {
            _ if !f.input.holds_value() => {}
            Input::Checkbox => {
                form.append_pair(&f.path, "false");
                if f.checked {
                    form.append_pair(&f.path, "true");
                }
            }
            _ => {
                form.append_pair(&f.path, &f.value);
            }
        }
    }
    form.finish().into_bytes()
}

fn leaves(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                let next = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                leaves(inner, next, out);
            }
        }
        _ => out.push(path),
    }
}

#[test]
fn every_setting_has_a_field_and_an_untouched_form_saves_the_same_program() {
    let words = Words::new("en");
    for root in programs() {
        let mut sections = build(&root, &words, &[]);
        let fields: Vec<String> = sections
            .iter()
            .flat_map(|s| &s.fields)
            .map(|f| f.path.clone())
            .collect();
        let mut all = Vec::new();
        leaves(&root, String::new(), &mut all);
        for leaf in all {
            assert!(
                fields
                    .iter()
                    .any(|f| *f == leaf || leaf.starts_with(&format!("{f}."))),
                "{leaf} has no field"
            );
        }
        let entered = Entered::parse(&untouched(&sections));
        let rebuilt = apply(&root, &mut sections, &entered, &words).unwrap();
        assert_eq!(rebuilt, root);
        let errors: Vec<_> = sections
            .iter()
            .flat_map(|s| &s.fields)
            .filter_map(|f| f.error.clone())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn absent_settings_get_the_input_their_type_takes() {
    let words = Words::new("en");
    let root = programs().remove(0);
    let sections = build(&root, &words, &[]);
    let input = |path: &str| {
        sections
            .iter()
            .flat_map(|s| &s.fields)
            .find(|f| f.path == path)
            .map(|f| (f.input, f.nullable))
    };
    assert_eq!(input("emails.from"), Some((Input::Text, true)));
    assert_eq!(input("expiry"), Some((Input::Json, true)));
    assert_eq!(
        input("earning.points_per_unit"),
        Some((Input::Number, false))
    );
    assert_eq!(input("earning.include_tax"), Some((Input::Checkbox, false)));
    assert_eq!(input("earning.rounding"), Some((Input::Select, false)));
    assert_eq!(
        input("emails.policy.sunset_after_unopened"),
        Some((Input::Number, true))
    );
    assert_eq!(
        input("emails.policy.quiet_hours"),
        Some((Input::Unset, false))
    );
}

#[test]
fn a_refused_setting_lands_on_its_field_or_the_nearest_one() {
    let words = Words::new("en");
    let root = programs().remove(1);
    let mut sections = build(&root, &words, &[]);
    let error_of = |sections: &[Section], path: &str| {
        sections
            .iter()
            .flat_map(|s| &s.fields)
            .find(|f| f.path == path)
            .and_then(|f| f.error.clone())
    };
    assert_eq!(
        place(&mut sections, Some("earning.unit_size".into()), "a".into()),
        None
    );
    assert_eq!(
        error_of(&sections, "earning.unit_size").as_deref(),
        Some("a")
    );
    assert_eq!(
        place(&mut sections, Some("rewards[0].title".into()), "b".into()),
        None
    );
    assert_eq!(error_of(&sections, "rewards.0.title").as_deref(), Some("b"));
    place(&mut sections, Some("rewards".into()), "b2".into());
    assert_eq!(error_of(&sections, "rewards").as_deref(), Some("b2"));
    place(
        &mut sections,
        Some("emails.policy.quiet_hours".into()),
        "c".into(),
    );
    assert_eq!(error_of(&sections, "emails.policy.quiet_hours.start"), None);
    assert_eq!(
        place(&mut sections, None, "d".into()).as_deref(),
        Some("d"),
        "about the whole program: the summary"
    );
}

fn entered(pairs: &[(&str, &str)]) -> Entered {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs);
    Entered::parse(form.finish().as_bytes())
}

fn paths(sections: &[Section]) -> Vec<String> {
    sections
        .iter()
        .flat_map(|s| &s.fields)
        .map(|f| f.path.clone())
        .collect()
}

#[test]
fn lists_of_objects_are_rows_of_typed_inputs() {
    let words = Words::new("en");
    let root = programs().remove(1);
    let sections = build(&root, &words, &[]);
    let input = |path: &str| {
        sections
            .iter()
            .flat_map(|s| &s.fields)
            .find(|f| f.path == path)
            .map(|f| f.input)
    };
    assert_eq!(input("rewards"), Some(Input::List));
    assert_eq!(input("rewards.0"), Some(Input::Item));
    assert_eq!(input("rewards.0.points_cost"), Some(Input::Number));
    assert_eq!(input("rewards.0.kind"), Some(Input::Select));
    assert_eq!(input("rewards.0.titles"), Some(Input::Json));
    assert_eq!(input("rewards.1.max_shipping_minor"), Some(Input::Number));
    assert_eq!(input("rewards.2.charity"), Some(Input::Text));
    assert_eq!(input("tiers.levels.1.threshold"), Some(Input::Number));
    assert_eq!(input("earning.campaigns.0.starts_at"), Some(Input::Text));
    assert_eq!(
        input("earning.product_multipliers.0.multiplier_pct"),
        Some(Input::Number)
    );
    assert_eq!(input("memberships.0.tier"), Some(Input::Text));
    assert_eq!(input("win_back.steps.1.reward"), Some(Input::Json));
    assert_eq!(
        input("win_back.subject_variants.0.subject"),
        Some(Input::Json)
    );
    // A row's settings sit between its start and end, in the order their labels are listed.
    let all = paths(&sections);
    let at = |path: &str| all.iter().position(|p| p == path).unwrap();
    assert!(at("rewards") < at("rewards.0") && at("rewards.0") < at("rewards.0.id"));
    assert!(at("rewards.0.id") < at("rewards.0.title"));
    assert!(at("rewards.0.title") < at("rewards.0.points_cost"));
    assert!(at("rewards.0.active") < at("rewards.1"));
}

#[test]
fn add_shows_one_more_empty_row_and_a_new_kind_shows_its_settings() {
    let words = Words::new("en");
    let root = programs().remove(1);
    let posted = entered(&[("_add", "rewards"), ("rewards.0.kind", "percent")]);
    assert!(posted.only_shows());
    let (shown, new_items) = skeleton(&root, &posted);
    assert_eq!(new_items, ["rewards.3"]);
    let all = paths(&build(&shown, &words, &new_items));
    for path in [
        "rewards.3",
        "rewards.3.id",
        "rewards.3.points_cost",
        "rewards.0.percent",
    ] {
        assert!(all.iter().any(|p| p == path), "{path}");
    }
    assert!(!all.iter().any(|p| p == "rewards.0.amount_minor"));
    assert_eq!(
        shown["rewards"][0]["id"], "5-off",
        "what kinds share is kept"
    );
    // The skeleton is still a program, so every other setting can be checked.
    serde_json::from_value::<Program>(shown).unwrap();

    // Saving the added row: posted under its index, read against a skeleton that has it.
    let posted = entered(&[("rewards.3.id", "ten"), ("rewards.3.points_cost", "10")]);
    let (shown, new_items) = skeleton(&root, &posted);
    assert_eq!(new_items, ["rewards.3"]);
    let mut sections = build(&shown, &words, &new_items);
    let rebuilt = apply(&shown, &mut sections, &posted, &words).unwrap();
    assert_eq!(rebuilt["rewards"][3]["id"], "ten");
    assert_eq!(rebuilt["rewards"][3]["points_cost"], 10);
}

#[test]
fn ticked_rows_are_taken_out_and_errors_map_back_to_the_rows_shown() {
    let root = programs().remove(1);
    let posted = entered(&[("_remove", "rewards.0"), ("_remove", "tiers.levels.5")]);
    let mut value = root.clone();
    let kept = remove_ticked(&mut value, &posted.removed);
    assert_eq!(value["rewards"].as_array().unwrap().len(), 2);
    assert_eq!(value["rewards"][0]["id"], "ship");
    assert_eq!(value["tiers"]["levels"], root["tiers"]["levels"]);
    assert_eq!(
        kept.on_page("rewards[1].points_cost"),
        "rewards.2.points_cost"
    );
    assert_eq!(kept.on_page("rewards.0"), "rewards.1");
    assert_eq!(kept.on_page("earning.unit_size"), "earning.unit_size");
}
