//! Lists of objects (rewards, tier levels, multipliers, campaigns…) edited as rows: each item a
//! group of typed inputs named by path (`rewards.0.points_cost`), a "remove" box per item and an
//! "add" button that shows the page again with one more, empty item, without saving.
//!
//! A post is read against a *skeleton*: the stored program with the items the form has that
//! the store has not (added on an earlier showing), one more where "add" was pressed, and each
//! item whose `kind` the owner changed given that kind's fields. The form is built from the
//! skeleton, so every posted name finds its field; ticked items are taken out only after, and
//! the program's errors about the remaining items are mapped back to the rows the owner sees.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

use crate::http::app::program::form::get_at;
use crate::http::app::program::rebuild::Entered;

/// The lists edited as rows, each with the word its texts are keyed by (`pi.` names one item,
/// `pa.` is its "add" button).
pub const ROW_LISTS: &[&str] = &[
    "earning.product_multipliers",
    "earning.collection_multipliers",
    "earning.campaigns",
    "rewards",
    "tiers.levels",
    "memberships",
    "win_back.steps",
    "win_back.subject_variants",
];

/// Settings inside a new item that are shown empty although the skeleton holds a valid
/// placeholder (the skeleton must stay a program so the other fields can be checked).
pub const BLANK_WHEN_NEW: &[&str] = &[
    "earning.product_multipliers.*.product_id",
    "earning.collection_multipliers.*.collection_id",
];

/// The kinds of reward and the fields each adds to the common ones.
pub const REWARD_KINDS: &[&str] = &[
    "fixed_amount",
    "percent",
    "free_shipping",
    "free_product",
    "variable",
    "donation",
    "custom",
];

/// Most items one post may add beyond the stored ones (a forged index cannot grow a huge list).
const MAX_ADDED: usize = 50;

fn reward_kind_fields(kind: &str) -> Value {
    match kind {
        "percent" => json!({"percent": 10}),
        "free_shipping" => json!({"max_shipping_minor": null}),
        "free_product" => json!({"variant_id": ""}),
        "variable" => json!({"points_per_unit": 100, "min_points": 100, "max_points": 1000}),
        "donation" => json!({"charity": "", "amount_minor": 0}),
        "custom" => json!({"description": ""}),
        _ => json!({"amount_minor": 0}),
    }
}

/// A new, empty item of `list` (of `kind`, for rewards): every setting present, so each gets
/// its input, and shaped so that the program still deserializes.
pub fn new_item(list: &str, kind: Option<&str>) -> Value {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let stamp = |d: chrono::NaiveDateTime| d.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    match list {
        "earning.product_multipliers" => json!({"product_id": "1", "multiplier_pct": 200}),
        "earning.collection_multipliers" => json!({"collection_id": "1", "multiplier_pct": 200}),
        "earning.campaigns" => json!({
            "name": "", "starts_at": stamp(today), "ends_at": stamp(today + Duration::days(7)),
            "multiplier_pct": 200
        }),
        "rewards" => {
            let kind = kind
                .filter(|k| REWARD_KINDS.contains(k))
                .unwrap_or("fixed_amount");
            let mut item = json!({
                "id": "", "title": "", "kind": kind, "points_cost": 0, "min_order_minor": null,
                "expires_days": 30, "tier": null, "active": true
            });
            merge(&mut item, reward_kind_fields(kind));
            item
        }
        "tiers.levels" => json!({
            "id": "", "name": "", "threshold": 0, "earn_multiplier_pct": 100, "perks": [],
            "entry_reward_id": null, "customer_tag": null
        }),
        "memberships" => json!({"id": "", "product_id": "", "tier": "", "days": 365}),
        "win_back.steps" => json!({"delay_days": 7}),
        "win_back.subject_variants" => json!({"id": "", "subject": {}}),
        _ => Value::Object(Map::new()),
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// `item` with the fields of `kind` instead of its own kind's; what all kinds share is kept.
fn rekind(item: &Value, kind: &str) -> Value {
    let specific: HashSet<String> = REWARD_KINDS
        .iter()
        .filter_map(|k| reward_kind_fields(k).as_object().cloned())
        .flat_map(|fields| fields.into_iter().map(|(key, _)| key))
        .collect();
    let mut changed = new_item("rewards", Some(kind));
    if let (Some(changed), Some(old)) = (changed.as_object_mut(), item.as_object()) {
        for (key, value) in old {
            if key != "kind" && !specific.contains(key) {
                changed.insert(key.clone(), value.clone());
            }
        }
    }
    changed
}

/// The skeleton a post is read against, and the paths of the items it has that the stored
/// program has not.
pub fn skeleton(root: &Value, posted: &Entered) -> (Value, Vec<String>) {
    let mut value = root.clone();
    let mut new_items = Vec::new();
    for list in ROW_LISTS {
        let segments: Vec<String> = list.split('.').map(str::to_owned).collect();
        let Some(Value::Array(items)) = get_at_mut(&mut value, &segments) else {
            continue;
        };
        let prefix = format!("{list}.");
        let posted_len = posted
            .names()
            .filter_map(|name| name.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('.').next()?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        let stored = items.len();
        let shown = posted_len.clamp(stored, stored + MAX_ADDED)
            + usize::from(posted.added() == Some(*list));
        for i in 0..shown {
            let kind = posted.value(&format!("{list}.{i}.kind"));
            match items.get_mut(i) {
                Some(item) => {
                    let changed =
                        kind.filter(|k| item.get("kind").and_then(Value::as_str) != Some(*k));
                    if let Some(kind) = changed.filter(|k| REWARD_KINDS.contains(k)) {
                        *item = rekind(item, kind);
                    }
                }
                None => {
                    items.push(new_item(list, kind));
                    new_items.push(format!("{list}.{i}"));
                }
            }
        }
    }
    (value, new_items)
}

fn get_at_mut<'v>(root: &'v mut Value, segments: &[String]) -> Option<&'v mut Value> {
    segments.iter().try_fold(root, |here, key| match here {
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        other => other.get_mut(key.as_str()),
    })
}

/// Which stored row each remaining item was, per list, after the ticked items are taken out.
#[derive(Debug, Default)]
pub struct Kept(Vec<(&'static str, Vec<usize>)>);

impl Kept {
    /// A path in the saved program (`rewards.1.points_cost`, or serde's `rewards[1].points_cost`)
    /// as the path of the row the owner sees (`rewards.2.points_cost`).
    pub fn on_page(&self, path: &str) -> String {
        let path = path.replace('[', ".").replace(']', "");
        for (list, kept) in &self.0 {
            let Some(rest) = path.strip_prefix(&format!("{list}.")) else {
                continue;
            };
            let (index, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let Some(original) = index.parse::<usize>().ok().and_then(|i| kept.get(i)) else {
                continue;
            };
            return match tail {
                "" => format!("{list}.{original}"),
                tail => format!("{list}.{original}.{tail}"),
            };
        }
        path
    }
}

/// Takes the ticked items (`rewards.2`) out of `value`.
pub fn remove_ticked(value: &mut Value, ticked: &HashSet<String>) -> Kept {
    let mut kept = Kept::default();
    for list in ROW_LISTS {
        let segments: Vec<String> = list.split('.').map(str::to_owned).collect();
        let Some(Value::Array(items)) = get_at_mut(value, &segments) else {
            continue;
        };
        let indices: Vec<usize> = (0..items.len())
            .filter(|i| !ticked.contains(&format!("{list}.{i}")))
            .collect();
        let mut i = 0;
        items.retain(|_| {
            let keep = !ticked.contains(&format!("{list}.{i}"));
            i += 1;
            keep
        });
        kept.0.push((list, indices));
    }
    kept
}

/// The index of the item of `list` in `value` whose `key` is `wanted` (the last one when
/// `last`: a duplicate is the later of the two).
pub fn index_of(value: &Value, list: &str, key: &str, wanted: &str, last: bool) -> Option<usize> {
    let segments: Vec<String> = list.split('.').map(str::to_owned).collect();
    let items = get_at(value, &segments)?.as_array()?;
    let mut matching = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.get(key).and_then(Value::as_str) == Some(wanted))
        .map(|(i, _)| i);
    if last {
        matching.next_back()
    } else {
        matching.next()
    }
}
