//! Reading a posted program form back into the program's JSON, each field typed by the stored
//! program's shape; a field that cannot be read, or whose value the program's type refuses, gets
//! its message and nothing is saved.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::http::app::program::form::{get_at, is_empty, probe, set_at, Field, Input, Section};
use crate::http::app::program::messages::shape;
use crate::http::app::program::words::{pattern, Words, TEXT_OR_NUMBER};

/// What the owner posted: the last value per name (a checked box follows its hidden "false"),
/// the optional groups and the rows ticked for removal, the list whose "add" button was pressed
/// or whether "update the form" was, and the CSRF token.
#[derive(Debug, Default)]
pub struct Entered {
    values: HashMap<String, String>,
    unset: HashSet<String>,
    pub removed: HashSet<String>,
    added: Option<String>,
    update: bool,
    pub csrf: String,
}

impl Entered {
    pub fn parse(body: &[u8]) -> Self {
        let mut entered = Entered::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            match name.as_ref() {
                "csrf" => entered.csrf = value.into_owned(),
                "_unset" => {
                    entered.unset.insert(value.into_owned());
                }
                "_remove" => {
                    entered.removed.insert(value.into_owned());
                }
                "_add" => entered.added = Some(value.into_owned()),
                "_update" => entered.update = true,
                "_save" => {}
                _ => {
                    entered.values.insert(name.into_owned(), value.into_owned());
                }
            }
        }
        entered
    }

    /// The value posted under `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every name posted with a value.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The list whose "add" button was pressed.
    pub fn added(&self) -> Option<&str> {
        self.added.as_deref()
    }

    /// Whether the owner asked to see the form again (a row added, a kind changed) rather
    /// than to save.
    pub fn only_shows(&self) -> bool {
        self.added.is_some() || self.update
    }
}

/// Fills the fields with what the owner entered and rebuilds the program's JSON from them.
/// `None` when a field could not be read (its error is set); the JSON still has to pass
/// `Program::parse`.
pub fn apply(
    root: &Value,
    sections: &mut [Section],
    entered: &Entered,
    words: &Words,
) -> Option<Value> {
    let unset: HashSet<String> = sections
        .iter()
        .flat_map(|s| &s.fields)
        .filter(|f| f.input == Input::Unset && entered.unset.contains(&f.path))
        .map(|f| f.path.clone())
        .collect();
    let mut rebuilt = root.clone();
    let mut ok = true;
    for field in sections.iter_mut().flat_map(|s| s.fields.iter_mut()) {
        match field.input {
            Input::Unset => field.checked = unset.contains(&field.path),
            Input::Item => field.checked = entered.removed.contains(&field.path),
            _ => {}
        }
        if !field.input.holds_value() {
            continue;
        }
        let Some(text) = entered.values.get(&field.path) else {
            // Not in the form (an older page): the setting stays as stored.
            continue;
        };
        field.value.clone_from(text);
        field.checked = text == "true";
        let inside_removed = unset
            .iter()
            .chain(&entered.removed)
            .any(|u| field.path.starts_with(&format!("{u}.")));
        if inside_removed {
            continue;
        }
        match read(root, field, text, words) {
            Ok(value) if get_at(root, &field.segments).is_none() && is_empty(&value) => {
                // A setting the program leaves out when empty, left empty: still left out.
            }
            Ok(value) => {
                if get_at(root, &field.segments) != Some(&value) {
                    // Only a changed value can be wrong in shape: the rest is the stored program.
                    if let Err(shape) = probe(root, &field.segments, value.clone()) {
                        let said = shape::rephrase(&shape.problem).in_lang(words.lang());
                        field.error = Some(match shape.inside {
                            Some(inside) => format!("{inside}: {said}"),
                            None => said,
                        });
                        ok = false;
                    }
                }
                set_at(&mut rebuilt, &field.segments, value);
            }
            Err(message) => {
                field.error = Some(message);
                ok = false;
            }
        }
    }
    for path in &unset {
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        set_at(&mut rebuilt, &segments, Value::Null);
    }
    ok.then_some(rebuilt)
}

/// One field's value as JSON, typed by the stored program's shape.
fn read(root: &Value, field: &Field, text: &str, words: &Words) -> Result<Value, String> {
    let trimmed = text.trim();
    match field.input {
        Input::Checkbox => Ok(Value::Bool(text == "true")),
        Input::Select if !field.choices.iter().any(|c| c.value == text) => {
            // Only a forged post sends another word: said as serde says an unknown variant.
            let expected: Vec<String> = field
                .choices
                .iter()
                .map(|c| format!("`{}`", c.value))
                .collect();
            let problem = format!(
                "unknown variant `{text}`, expected one of {}",
                expected.join(", ")
            );
            Err(shape::rephrase(&problem).in_lang(words.lang()))
        }
        Input::Select => Ok(Value::String(text.to_owned())),
        _ if trimmed.is_empty() && field.nullable => Ok(Value::Null),
        Input::Number => match trimmed.parse::<serde_json::Number>() {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => Err(words.text("prog_not_number").to_owned()),
        },
        Input::Text if TEXT_OR_NUMBER.contains(&pattern(&field.path).as_str()) => {
            // A number where the setting takes one, else the word ("auto").
            Ok(trimmed
                .parse::<serde_json::Number>()
                .map_or_else(|_| Value::String(trimmed.to_owned()), Value::Number))
        }
        Input::Text | Input::Unset | Input::List | Input::Item | Input::End | Input::Add => {
            Ok(Value::String(text.to_owned()))
        }
        Input::Json if trimmed.is_empty() => {
            // A list or map emptied: an empty one of the same kind.
            Ok(match get_at(root, &field.segments) {
                Some(Value::Object(_)) => Value::Object(serde_json::Map::new()),
                _ => Value::Array(Vec::new()),
            })
        }
        Input::Json => serde_json::from_str(trimmed)
            // serde's detail ("expected value at line 1 column 8") is in English either way: kept
            // left to right inside an Arabic sentence.
            .map_err(|e| format!("{}: \u{200E}{e}\u{200E}", words.text("prog_bad_json"))),
    }
}
