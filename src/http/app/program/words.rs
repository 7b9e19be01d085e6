//! What the program editor says about each setting: its label (en/ar, from `texts.rs`, falling
//! back to the setting's path so a new setting still shows), the choices of settings that take one
//! of a few words, and an example for the settings edited as JSON.

use std::collections::BTreeMap;

use crate::http::app::texts::texts;

/// Settings that take one of a few words: a `<select>`.
pub const CHOICES: &[(&str, &[&str])] = &[
    ("earning.rounding", &["down", "nearest", "up"]),
    ("earning.earn_on", &["paid", "created"]),
    ("widget.default_locale", &["en", "ar"]),
    ("widget.position", &["right", "left"]),
    ("tiers.basis", &["points_earned", "amount_spent", "orders"]),
    (
        "tiers.window",
        &["lifetime", "calendar_year", "rolling_12_months"],
    ),
    ("referrals.review", &["auto", "manual"]),
    (
        "rewards.*.kind",
        crate::http::app::program::rows::REWARD_KINDS,
    ),
];

/// `rewards.2.points_cost` → `rewards.*.points_cost`: what the tables below are keyed by, so a
/// setting of a row is described once for every row.
pub fn pattern(path: &str) -> String {
    path.split('.')
        .map(|segment| {
            if segment.parse::<usize>().is_ok() {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The entry of `table` for the setting at `path`.
pub fn find<T: Copy>(table: &[(&str, T)], path: &str) -> Option<T> {
    let pattern = pattern(path);
    table
        .iter()
        .find(|(p, _)| *p == pattern)
        .map(|(_, value)| *value)
}

/// Maps keyed by the owner (kinds, languages): edited as JSON even when they have keys.
/// Also the translations of a row's name (`rewards.*.titles`) and a tier's perks.
pub const JSON_PATHS: &[&str] = &[
    "emails.enabled",
    "emails.templates",
    "widget.texts",
    "rewards.*.titles",
    "tiers.levels.*.names",
    "win_back.subject_variants.*.subject",
];

/// Settings that take a number or a word (`win_back.after_days`: 90 or "auto").
pub const TEXT_OR_NUMBER: &[&str] = &["win_back.after_days"];

/// An example of each setting edited as JSON (JSON reads the same in every language).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "expiry",
        r#"{"mode": "after_earning", "months": 12, "remind_days_before": 14}"#,
    ),
    (
        "tiers",
        r#"{"basis": "points_earned", "window": "lifetime", "grace_days": 30, "levels": [{"id": "silver", "name": "Silver", "threshold": 300}]}"#,
    ),
    (
        "referrals",
        r#"{"enabled": true, "friend_reward": {"kind": "fixed_amount", "amount_minor": 1000, "expires_days": 30}, "referrer_reward": {"points": 500}}"#,
    ),
    (
        "referrals.friend_reward",
        r#"{"kind": "percent", "percent": 10, "min_order_minor": 3000, "expires_days": 30}"#,
    ),
    ("emails.enabled", r#"{"points_earned": false}"#),
    (
        "emails.templates",
        r#"{"welcome": {"en": {"subject": "Welcome", "html": "<p>Hello</p>", "text": "Hello"}}}"#,
    ),
    (
        "widget.texts",
        r#"{"en": {"guest_heading": "Join our club"}}"#,
    ),
    (
        "win_back",
        r#"{"enabled": true, "after_days": 90, "steps": [{"delay_days": 0}]}"#,
    ),
    ("replenishment", r#"{"enabled": true, "lead_days": 3}"#),
    ("rewards.*.titles", r#"{"ar": "خصم 5"}"#),
    ("tiers.levels.*.names", r#"{"ar": "ذهبي"}"#),
    (
        "tiers.levels.*.perks",
        r#"["Free shipping", "Early access"]"#,
    ),
    (
        "win_back.steps.*.reward",
        r#"{"kind": "percent", "percent": 10, "expires_days": 14}"#,
    ),
    (
        "win_back.subject_variants.*.subject",
        r#"{"en": "We miss you", "ar": "اشتقنا إليك"}"#,
    ),
];

/// The admin texts in the owner's language, with the editor's look-ups.
#[derive(Debug)]
pub struct Words(BTreeMap<&'static str, &'static str>, &'static str);

impl Words {
    pub fn new(lang: &str) -> Self {
        let lang = if lang == "ar" { "ar" } else { "en" };
        Self(texts(lang), lang)
    }

    /// `ar` or `en`.
    pub fn lang(&self) -> &'static str {
        self.1
    }

    fn lookup(&self, key: &str) -> Option<String> {
        self.0.get(key).map(|s| (*s).to_owned())
    }

    /// A text by key; the key itself when missing (the texts test keeps that from happening).
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.0.get(key).copied().unwrap_or(key)
    }

    pub fn label(&self, path: &str) -> String {
        self.lookup(&format!("p.{path}"))
            .or_else(|| self.lookup(&format!("p.{}", pattern(path))))
            .unwrap_or_else(|| path.to_owned())
    }

    /// What one row of `list` is called, numbered from 1 (`Reward 2`).
    pub fn item(&self, list: &str, index: usize) -> String {
        let name = self
            .lookup(&format!("pi.{list}"))
            .unwrap_or_else(|| list.to_owned());
        format!("{name} {}", index + 1)
    }

    /// The "add a …" button of `list`.
    pub fn add(&self, list: &str) -> String {
        self.lookup(&format!("pa.{list}"))
            .unwrap_or_else(|| format!("+ {list}"))
    }

    pub fn legend(&self, section: &str) -> String {
        self.lookup(&format!("ps.{section}"))
            .unwrap_or_else(|| section.to_owned())
    }

    pub fn unset_label(&self, path: &str) -> String {
        self.lookup(&format!("u.{path}"))
            .unwrap_or_else(|| format!("{} {}", self.text("prog_remove"), self.label(path)))
    }

    pub fn option(&self, value: &str) -> String {
        self.lookup(&format!("o.{value}"))
            .unwrap_or_else(|| value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::program::Program;

    /// Every example is a setting the program accepts, so an owner copying one is not refused.
    #[test]
    fn every_example_is_accepted_at_its_place() {
        for (path, example) in EXAMPLES {
            let value: serde_json::Value = serde_json::from_str(example).unwrap();
            if let Some((list, key)) = path.split_once(".*.") {
                // A setting of a row: in a new row of its list (whose placeholders are not
                // all valid values, so only the shape is checked).
                let mut item = crate::http::app::program::rows::new_item(list, None);
                item[key] = value;
                let mut body = serde_json::json!([item]);
                for segment in list.rsplit('.') {
                    body = serde_json::json!({ segment: body });
                }
                if list == "win_back.subject_variants" {
                    body["win_back"]["steps"] = serde_json::json!([{"delay_days": 0}]);
                }
                if let Err(e) = serde_json::from_value::<Program>(body) {
                    panic!("{path}: {example}: {e}");
                }
                continue;
            }
            let mut body = value;
            for key in path.rsplit('.') {
                let mut map = serde_json::Map::new();
                map.insert(key.to_owned(), body);
                body = serde_json::Value::Object(map);
            }
            // What the example's neighbours need: the referrer's reward, the
            // win-back's steps, the membership's tier.
            if *path == "referrals.friend_reward" {
                body["referrals"]["referrer_reward"] = serde_json::json!({"points": 500});
            }
            if *path == "win_back.subject_variants" {
                body["win_back"]["steps"] = serde_json::json!([{"delay_days": 0}]);
            }
            if *path == "memberships" {
                body["tiers"] = serde_json::json!({"levels": [{"id": "gold", "name": "Gold", "threshold": 100}]});
            }
            if let Err(e) = Program::parse(body.to_string().as_bytes()) {
                panic!("{path}: {example}: {e}");
            }
        }
    }

    #[test]
    fn every_label_has_both_languages_and_falls_back_to_the_path() {
        let (en, ar) = (Words::new("en"), Words::new("ar"));
        assert_eq!(
            en.label("earning.points_per_unit"),
            "Points per unit of currency"
        );
        assert_ne!(
            ar.label("earning.points_per_unit"),
            en.label("earning.points_per_unit")
        );
        assert_eq!(en.label("earning.not_a_setting"), "earning.not_a_setting");
        for (_, options) in CHOICES {
            for option in *options {
                assert_ne!(en.option(option), *option, "o.{option} has no label");
            }
        }
    }
}
