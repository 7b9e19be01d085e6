//! The editor's form against programs of every shape: nothing of the program is left without a
//! field, and posting the form untouched gives back the very same program.

use serde_json::{json, Value};

use super::form::{build, Input, Section};
use super::rebuild::{apply, Entered};
use super::summary::place;
use super::words::Words;
use crate::services::program::Program;

fn programs() -> Vec<Value> {
    let rich = json!({
        "earning": {"points_per_unit": 2, "signup_points": 50,
                    "product_multipliers": [{"product_id": "1", "multiplier_pct": 200}]},
        "code_prefix": "VIP",
        "expiry": {"mode": "after_inactivity", "months": 12},
        "tiers": {"basis": "orders", "levels": [{"id": "gold", "name": "Gold", "threshold": 3}]},
        "memberships": [{"id": "club", "product_id": "123", "tier": "gold", "days": 365}],
        "referrals": {"enabled": true, "review": "manual", "max_rewards_per_month": 4,
                      "friend_reward": {"kind": "percent", "percent": 10, "expires_days": 30},
                      "referrer_reward": {"points": 500}},
        "emails": {"from": "Shop <hi@shop.example>", "enabled": {"points_earned": false},
                   "policy": {"max_per_week": 3, "quiet_hours": null}},
        "win_back": {"enabled": true, "after_days": "auto", "steps": [{"delay_days": 0}],
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
            Input::Unset => {}
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
        let mut sections = build(&root, &words);
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
    let sections = build(&root, &words);
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
    let mut sections = build(&root, &words);
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
    assert_eq!(error_of(&sections, "rewards").as_deref(), Some("b"));
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
