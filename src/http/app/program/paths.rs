//! Settings of the program's JSON by path (`rewards.0.points_cost`: keys of objects, indices
//! of lists), and whether a value at a path still makes a program (its shape, by serde).

use serde_json::Value;

use crate::services::program::Program;

/// Whether the stored program with `value` at `segments` is still a program (shape only).
/// `Err` says why not (serde's words), with the place inside the value when deeper than the
/// field (`friend_reward.kind`).
pub fn probe(root: &Value, segments: &[String], value: Value) -> Result<(), ShapeProblem> {
    let mut changed = root.clone();
    set_at(&mut changed, segments, value);
    serde_path_to_error::deserialize::<_, Program>(changed)
        .map(|_| ())
        .map_err(|e| {
            // `rewards[0].points_cost` → `rewards.0.points_cost`, the field's own spelling.
            let at = e.path().to_string().replace('[', ".").replace(']', "");
            let problem = e.into_inner().to_string();
            let field = segments.join(".");
            let inside = match at.strip_prefix(field.as_str()) {
                Some(rest) if !rest.is_empty() => Some(rest.trim_start_matches('.').to_owned()),
                _ => None,
            };
            ShapeProblem { inside, problem }
        })
}

/// Why a value does not fit the program's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeProblem {
    /// Where inside the value, when deeper than the field.
    pub inside: Option<String>,
    /// serde's message.
    pub problem: String,
}

pub fn accepts(root: &Value, segments: &[String], value: Value) -> bool {
    probe(root, segments, value).is_ok()
}

/// Puts `value` at `segments`, making the last key if it is missing.
pub fn set_at(root: &mut Value, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else {
        *root = value;
        return;
    };
    let mut here = root;
    for key in parents {
        let next = match here {
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            other => other.get_mut(key.as_str()),
        };
        let Some(next) = next else {
            return;
        };
        here = next;
    }
    match here {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = value;
            }
        }
        _ => {}
    }
}

pub fn get_at<'v>(root: &'v Value, segments: &[String]) -> Option<&'v Value> {
    segments.iter().try_fold(root, |here, key| match here {
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        other => other.get(key.as_str()),
    })
}

/// An empty list, map or nothing: what a setting left out of the JSON stands for.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}
