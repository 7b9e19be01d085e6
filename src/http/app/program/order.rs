//! The order of the editor's fields: the order their labels are listed in `texts.rs` (the order
//! an owner thinks in, not the JSON's alphabetical one).

use crate::http::app::program::form::{Field, Input};
use crate::http::app::program::words::pattern;

/// Sorts `fields` by their labels' order; a group's "remove" box goes before its first field,
/// fields without a label after the others. A list's rows stay together, in their order, where
/// the list's label puts them (their own settings were sorted when the row was made).
pub fn sort(fields: &mut [Field]) {
    let rank = |path: &str| crate::http::app::texts::position(&format!("p.{}", pattern(path)));
    let ranks: Vec<Option<usize>> = fields.iter().map(|f| rank(&f.path)).collect();
    let group_rank = |path: &str| {
        fields
            .iter()
            .zip(&ranks)
            .filter(|(f, _)| f.path.starts_with(&format!("{path}.")))
            .filter_map(|(_, r)| *r)
            .min()
    };
    let lists: Vec<&str> = fields
        .iter()
        .filter(|f| f.input == Input::List)
        .map(|f| f.path.as_str())
        .collect();
    // The outermost list a field is part of: its rows, its "add" button.
    let list_of = |f: &Field| {
        lists
            .iter()
            .filter(|list| f.path == **list || f.path.starts_with(&format!("{list}.")))
            .min_by_key(|list| list.len())
            .copied()
    };
    let keys: Vec<(usize, bool)> = fields
        .iter()
        .zip(&ranks)
        .map(|(f, r)| match (f.input, list_of(f)) {
            (_, Some(list)) => (rank(list).unwrap_or(usize::MAX), true),
            (Input::Unset, None) => (group_rank(&f.path).unwrap_or(usize::MAX), false),
            (_, None) => (r.unwrap_or(usize::MAX), true),
        })
        .collect();
    let mut order: Vec<usize> = (0..fields.len()).collect();
    // Stable: fields of equal rank (a list's rows) keep the order they were made in.
    order.sort_by_key(|i| keys.get(*i).copied());
    let sorted: Vec<Field> = order
        .iter()
        .filter_map(|i| fields.get(*i).cloned())
        .collect();
    for (slot, field) in fields.iter_mut().zip(sorted) {
        *slot = field;
    }
}
