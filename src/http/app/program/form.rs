//! The program editor's form, made by walking the program's JSON so that every setting is
//! editable without a hand-written field per setting: a scalar becomes a typed input named by its
//! dotted path (`earning.points_per_unit`), a list, a map or a shape that changes with its `kind`
//! becomes a JSON text area. On a post the JSON is rebuilt from the fields using the stored
//! program's shape (what each field's type is), then checked by `Program::parse` like the API's.
//!
//! Whether a setting may be empty ("none"), and what type an absent (`null`) setting takes, is
//! asked of the program type itself: the stored program with that one value changed either
//! deserializes or it does not. So the form follows the program's types as they grow.

use serde::Serialize;
use serde_json::Value;

use crate::http::app::program::words::{Words, CHOICES, EXAMPLES, JSON_PATHS, TEXT_OR_NUMBER};
use crate::services::program::Program;

/// How a setting is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Number,
    Checkbox,
    Text,
    Select,
    Json,
    /// "Remove this optional group" (a present optional object shown as fields).
    Unset,
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Dotted path, also the form field's name.
    pub path: String,
    pub id: String,
    pub input: Input,
    pub label: String,
    pub example: Option<&'static str>,
    /// As shown (and as the owner entered it, after a refused post).
    pub value: String,
    pub checked: bool,
    pub choices: Vec<Choice>,
    /// Empty means "none".
    pub nullable: bool,
    pub rows: usize,
    pub error: Option<String>,
    /// Ids of the hint and error, for `aria-describedby`.
    pub described_by: String,
    #[serde(skip)]
    pub(super) segments: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub key: String,
    pub legend: String,
    pub fields: Vec<Field>,
    /// Errors about this section that no field of it can show.
    pub errors: Vec<String>,
}

/// The sections of the page, in order, and the top-level settings each holds. A top-level
/// setting not listed gets a section of its own, so a new setting is never left out.
pub(super) const SECTIONS: &[(&str, &[&str])] = &[
    ("earning", &["earning"]),
    ("rewards", &["rewards"]),
    ("code_prefix", &["code_prefix"]),
    ("expiry", &["expiry"]),
    ("tiers", &["tiers", "memberships"]),
    ("referrals", &["referrals"]),
    ("emails", &["emails"]),
    ("win_back", &["win_back"]),
    ("replenishment", &["replenishment"]),
    ("widget", &["widget"]),
];

/// Lists that are left out of the JSON when empty but are settings all the same.
const HIDDEN_WHEN_EMPTY: &[(&str, &str)] = &[("win_back", "subject_variants")];

/// Whether the stored program with `value` at `segments` is still a program (shape only).
/// `Err` says why not, naming the place inside the value when deeper than the field.
pub fn probe(root: &Value, segments: &[String], value: Value) -> Result<(), String> {
    let mut changed = root.clone();
    set_at(&mut changed, segments, value);
    serde_path_to_error::deserialize::<_, Program>(changed)
        .map(|_| ())
        .map_err(|e| {
            let at = e.path().to_string();
            let inner = e.into_inner().to_string();
            let field = segments.join(".");
            match at.strip_prefix(field.as_str()) {
                Some(rest) if !rest.is_empty() => {
                    format!("{}: {inner}", rest.trim_start_matches('.'))
                }
                _ => inner,
            }
        })
}

fn accepts(root: &Value, segments: &[String], value: Value) -> bool {
    probe(root, segments, value).is_ok()
}

/// Puts `value` at `segments`, making the last key if it is missing.
pub(super) fn set_at(root: &mut Value, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else {
        *root = value;
        return;
    };
    let mut here = root;
    for key in parents {
        let Some(next) = here.get_mut(key.as_str()) else {
            return;
        };
        here = next;
    }
    if let Some(map) = here.as_object_mut() {
        map.insert(last.clone(), value);
    }
}

pub(super) fn get_at<'v>(root: &'v Value, segments: &[String]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(root, |here, key| here.get(key.as_str()))
}

struct Walker<'a> {
    root: &'a Value,
    words: &'a Words,
    fields: Vec<Field>,
}

impl Walker<'_> {
    fn push(&mut self, segments: &[String], input: Input, value: String, nullable: bool) {
        let path = segments.join(".");
        let choices = match input {
            Input::Select => {
                let mut values: Vec<String> = CHOICES
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, options)| options.iter().map(|o| (*o).to_owned()).collect())
                    .unwrap_or_default();
                // A value this page does not know yet stays choosable rather than being lost.
                if !values.contains(&value) {
                    values.push(value.clone());
                }
                values
                    .into_iter()
                    .map(|v| Choice {
                        label: self.words.option(&v),
                        value: v,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let label = match input {
            Input::Unset => self.words.unset_label(&path),
            _ => self.words.label(&path),
        };
        let rows = value.lines().count().clamp(3, 16);
        self.fields.push(Field {
            id: format!("f-{}", path.replace('.', "-")),
            example: EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e),
            checked: value == "true",
            path,
            input,
            label,
            value,
            choices,
            nullable,
            rows,
            error: None,
            described_by: String::new(),
            segments: segments.to_vec(),
        });
    }

    fn walk(&mut self, value: &Value, segments: &mut Vec<String>) {
        let path = segments.join(".");
        let nullable = accepts(self.root, segments, Value::Null);
        match value {
            Value::Object(map) if !as_json(&path, map) => {
                if nullable {
                    self.push(segments, Input::Unset, "false".into(), false);
                }
                for (key, inner) in map {
                    segments.push(key.clone());
                    self.walk(inner, segments);
                    segments.pop();
                }
                for (parent, key) in HIDDEN_WHEN_EMPTY {
                    if *parent == path && !map.contains_key(*key) {
                        segments.push((*key).to_owned());
                        self.walk(&Value::Array(Vec::new()), segments);
                        segments.pop();
                    }
                }
            }
            Value::Object(_) | Value::Array(_) => {
                let text = serde_json::to_string_pretty(value).unwrap_or_default();
                self.push(segments, Input::Json, text, nullable);
            }
            Value::Null => {
                let input = if accepts(self.root, segments, Value::String(String::new())) {
                    Input::Text
                } else if accepts(self.root, segments, Value::from(0)) {
                    Input::Number
                } else {
                    Input::Json
                };
                self.push(segments, input, String::new(), true);
            }
            Value::Bool(b) => self.push(segments, Input::Checkbox, b.to_string(), false),
            Value::Number(n) => {
                let input = if TEXT_OR_NUMBER.contains(&path.as_str()) {
                    Input::Text
                } else {
                    Input::Number
                };
                self.push(segments, input, n.to_string(), nullable);
            }
            Value::String(s) => {
                let input = if CHOICES.iter().any(|(p, _)| *p == path) {
                    Input::Select
                } else {
                    Input::Text
                };
                self.push(segments, input, s.clone(), nullable);
            }
        }
    }
}

/// Maps (`emails.enabled`), and shapes that change with their `kind` or `mode`, are edited as
/// JSON: fields could not add a key or switch the shape.
fn as_json(path: &str, map: &serde_json::Map<String, Value>) -> bool {
    map.is_empty()
        || JSON_PATHS.contains(&path)
        || map.contains_key("kind")
        || map.contains_key("mode")
}

/// The page's sections and fields for the stored program `root` (the program as JSON).
pub fn build(root: &Value, words: &Words) -> Vec<Section> {
    let mut sections: Vec<Section> = SECTIONS
        .iter()
        .map(|(key, _)| Section {
            key: (*key).to_owned(),
            legend: words.legend(key),
            fields: Vec::new(),
            errors: Vec::new(),
        })
        .collect();
    let Some(top) = root.as_object() else {
        return sections;
    };
    for (key, value) in top {
        let mut walker = Walker {
            root,
            words,
            fields: Vec::new(),
        };
        walker.walk(value, &mut vec![key.clone()]);
        let section = SECTIONS
            .iter()
            .position(|(_, keys)| keys.contains(&key.as_str()));
        match section.and_then(|i| sections.get_mut(i)) {
            Some(section) => section.fields.extend(walker.fields),
            None => sections.push(Section {
                key: key.clone(),
                legend: words.legend(key),
                fields: walker.fields,
                errors: Vec::new(),
            }),
        }
    }
    for section in &mut sections {
        sort(&mut section.fields);
    }
    sections
}

/// Puts fields in the order their labels are listed (the order an owner thinks in, not the
/// JSON's alphabetical one); a group's "remove" box goes before its first field, fields without
/// a label after the others.
fn sort(fields: &mut [Field]) {
    let rank = |path: &str| crate::http::app::texts::position(&format!("p.{path}"));
    let ranks: Vec<Option<usize>> = fields.iter().map(|f| rank(&f.path)).collect();
    let group_rank = |path: &str| {
        fields
            .iter()
            .zip(&ranks)
            .filter(|(f, _)| f.path.starts_with(&format!("{path}.")))
            .filter_map(|(_, r)| *r)
            .min()
    };
    let keys: Vec<(usize, bool)> = fields
        .iter()
        .zip(&ranks)
        .map(|(f, r)| match f.input {
            Input::Unset => (group_rank(&f.path).unwrap_or(usize::MAX), false),
            _ => (r.unwrap_or(usize::MAX), true),
        })
        .collect();
    let mut order: Vec<usize> = (0..fields.len()).collect();
    order.sort_by_key(|i| keys.get(*i).copied());
    let sorted: Vec<Field> = order
        .iter()
        .filter_map(|i| fields.get(*i).cloned())
        .collect();
    for (slot, field) in fields.iter_mut().zip(sorted) {
        *slot = field;
    }
}
