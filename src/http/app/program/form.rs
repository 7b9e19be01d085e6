//! The program editor's form, made by walking the program's JSON so that every setting is
//! editable without a hand-written field per setting: a scalar becomes a typed input named by its
//! dotted path (`earning.points_per_unit`), a list of objects becomes rows of such inputs
//! (`rewards.0.points_cost`, see `rows`), and what rows cannot show (a map keyed by the owner, a
//! list of words, a nested shape that changes with its `kind`) becomes a JSON text area. On a post the JSON is rebuilt from the fields using the stored
//! program's shape (what each field's type is), then checked by `Program::parse` like the API's.
//!
//! Whether a setting may be empty ("none"), and what type an absent (`null`) setting takes, is
//! asked of the program type itself: the stored program with that one value changed either
//! deserializes or it does not. So the form follows the program's types as they grow.

use serde::Serialize;
use serde_json::Value;

use crate::http::app::program::order::sort;
pub use crate::http::app::program::paths::{accepts, get_at, is_empty, probe, set_at};
use crate::http::app::program::rows::{BLANK_WHEN_NEW, ROW_LISTS};
use crate::http::app::program::words::{
    find, pattern, Words, CHOICES, EXAMPLES, JSON_PATHS, TEXT_OR_NUMBER,
};

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
    /// The head of a list edited as rows (its label and the errors about the whole list).
    List,
    /// The start of one row: its legend and "remove" box (`_remove` = the row's path).
    Item,
    /// The end of one row.
    End,
    /// The list's "add a …" button (`_add` = the list's path), after its rows.
    Add,
}

impl Input {
    /// Whether the owner enters a value of the program here.
    pub fn holds_value(self) -> bool {
        !matches!(
            self,
            Input::Unset | Input::List | Input::Item | Input::End | Input::Add
        )
    }

    /// Whether an error can be shown here.
    pub fn shows_errors(self) -> bool {
        !matches!(self, Input::Unset | Input::End | Input::Add)
    }
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
    /// The row this setting belongs to (`Reward 2`), for the error summary.
    pub group: Option<String>,
    /// A row's kind: choosing another shows that kind's settings (after "update the form").
    pub reshapes: bool,
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

/// Settings left out of the JSON when empty but settings all the same: (where, which, empty).
const HIDDEN_WHEN_EMPTY: &[(&str, &str, Empty)] = &[
    ("win_back", "subject_variants", Empty::List),
    ("rewards.*", "titles", Empty::Map),
    ("tiers.levels.*", "names", Empty::Map),
    ("win_back.steps.*", "reward", Empty::Nothing),
];

#[derive(Debug, Clone, Copy)]
enum Empty {
    List,
    Map,
    Nothing,
}

impl Empty {
    fn value(self) -> Value {
        match self {
            Empty::List => Value::Array(Vec::new()),
            Empty::Map => Value::Object(serde_json::Map::new()),
            Empty::Nothing => Value::Null,
        }
    }
}

struct Walker<'a> {
    root: &'a Value,
    words: &'a Words,
    /// Rows the stored program does not have yet (their placeholders are shown empty).
    new_items: &'a [String],
    fields: Vec<Field>,
    /// The row being walked (`Reward 2`).
    group: Option<String>,
}

impl Walker<'_> {
    fn push(&mut self, segments: &[String], input: Input, value: String, nullable: bool) {
        let path = segments.join(".");
        let choices = match input {
            Input::Select => {
                let mut values: Vec<String> = find(CHOICES, &path)
                    .map(|options| options.iter().map(|o| (*o).to_owned()).collect())
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
        let blank = BLANK_WHEN_NEW.contains(&pattern(&path).as_str())
            && self
                .new_items
                .iter()
                .any(|item| path.starts_with(&format!("{item}.")));
        let value = if blank { String::new() } else { value };
        let rows = value.lines().count().clamp(3, 16);
        self.fields.push(Field {
            id: format!("f-{}", path.replace('.', "-")),
            example: find(EXAMPLES, &path),
            group: self.group.clone(),
            reshapes: input == Input::Select && self.group.is_some() && path.ends_with(".kind"),
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

    /// Each setting of an object, and those it leaves out when empty.
    fn walk_settings(&mut self, map: &serde_json::Map<String, Value>, segments: &mut Vec<String>) {
        let path = pattern(&segments.join("."));
        for (key, inner) in map {
            segments.push(key.clone());
            self.walk(inner, segments);
            segments.pop();
        }
        for (parent, key, empty) in HIDDEN_WHEN_EMPTY {
            if *parent == path && !map.contains_key(*key) {
                segments.push((*key).to_owned());
                self.walk(&empty.value(), segments);
                segments.pop();
            }
        }
    }

    /// A list of objects as rows: its head, each item's settings between its start and end
    /// (in the order their labels are listed), and the "add" button.
    fn walk_rows(&mut self, items: &[Value], segments: &mut Vec<String>) {
        let path = segments.join(".");
        self.push(segments, Input::List, String::new(), false);
        for (index, item) in items.iter().enumerate() {
            segments.push(index.to_string());
            let legend = self.words.item(&path, index);
            self.push(segments, Input::Item, "false".into(), false);
            if let Some(start) = self.fields.last_mut() {
                start.label.clone_from(&legend);
            }
            let outer = self.group.replace(legend);
            let first = self.fields.len();
            if let Some(map) = item.as_object() {
                self.walk_settings(map, segments);
            }
            if let Some(settings) = self.fields.get_mut(first..) {
                sort(settings);
            }
            self.group = outer;
            self.push(segments, Input::End, String::new(), false);
            segments.pop();
        }
        self.push(segments, Input::Add, String::new(), false);
        if let Some(add) = self.fields.last_mut() {
            add.label = self.words.add(&path);
        }
    }

    fn walk(&mut self, value: &Value, segments: &mut Vec<String>) {
        let path = segments.join(".");
        let nullable = accepts(self.root, segments, Value::Null);
        match value {
            Value::Array(items) if ROW_LISTS.contains(&path.as_str()) => {
                self.walk_rows(items, segments);
            }
            Value::Object(map) if !as_json(&path, map) => {
                if nullable {
                    self.push(segments, Input::Unset, "false".into(), false);
                }
                self.walk_settings(map, segments);
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
                let input = if TEXT_OR_NUMBER.contains(&pattern(&path).as_str()) {
                    Input::Text
                } else {
                    Input::Number
                };
                self.push(segments, input, n.to_string(), nullable);
            }
            Value::String(s) => {
                let input = if find(CHOICES, &path).is_some() {
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
/// JSON: fields could not add a key or switch the shape. (A row's own `kind` is a select: the
/// row is shown again with the chosen kind's fields.)
fn as_json(path: &str, map: &serde_json::Map<String, Value>) -> bool {
    map.is_empty()
        || JSON_PATHS.contains(&pattern(path).as_str())
        || map.contains_key("kind")
        || map.contains_key("mode")
}

/// The page's sections and fields for the program `root` (the program as JSON); `new_items`
/// are the rows it has that the stored program has not.
pub fn build(root: &Value, words: &Words, new_items: &[String]) -> Vec<Section> {
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
            new_items,
            fields: Vec::new(),
            group: None,
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
