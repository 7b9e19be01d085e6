//! Reading a posted program form back into the program's JSON, each field typed by the stored
//! program's shape; a field that cannot be read, or whose value the program's type refuses, gets
//! its message and nothing is saved.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::http::app::program::form::{get_at, probe, set_at, Field, Input, Section};
use crate::http::app::program::words::{Words, TEXT_OR_NUMBER};

/// What the owner posted: the last value per name (a checked box follows its hidden "false"),
/// the optional groups ticked for removal, and the CSRF token.
#[derive(Debug, Default)]
pub struct Entered {
    values: HashMap<String, String>,
    unset: HashSet<String>,
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
                _ => {
                    entered.values.insert(name.into_owned(), value.into_owned());
                }
            }
        }
        entered
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
        if field.input == Input::Unset {
            field.checked = unset.contains(&field.path);
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
            .any(|u| field.path.starts_with(&format!("{u}.")));
        if inside_removed {
            continue;
        }
        match read(root, field, text, words) {
            Ok(value) => {
                if get_at(root, &field.segments) != Some(&value) {
                    // Only a changed value can be wrong in shape: the rest is the stored program.
                    if let Err(message) = probe(root, &field.segments, value.clone()) {
                        field.error = Some(message);
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
        Input::Select => Ok(Value::String(text.to_owned())),
        _ if trimmed.is_empty() && field.nullable => Ok(Value::Null),
        Input::Number => match trimmed.parse::<serde_json::Number>() {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => Err(words.text("prog_not_number").to_owned()),
        },
        Input::Text if TEXT_OR_NUMBER.contains(&field.path.as_str()) => {
            // A number where the setting takes one, else the word ("auto").
            Ok(trimmed
                .parse::<serde_json::Number>()
                .map_or_else(|_| Value::String(trimmed.to_owned()), Value::Number))
        }
        Input::Text | Input::Unset => Ok(Value::String(text.to_owned())),
        Input::Json if trimmed.is_empty() => {
            // A list or map emptied: an empty one of the same kind.
            Ok(match get_at(root, &field.segments) {
                Some(Value::Object(_)) => Value::Object(serde_json::Map::new()),
                _ => Value::Array(Vec::new()),
            })
        }
        Input::Json => serde_json::from_str(trimmed)
            .map_err(|e| format!("{}: {e}", words.text("prog_bad_json"))),
    }
}
