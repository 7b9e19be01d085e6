//! Where a refused program's messages are shown: next to the field they are about, else in
//! their section, and all of them in the summary at the top of the page.

use serde::Serialize;

use crate::http::app::program::form::{Section, SECTIONS};
use crate::http::app::program::words::Words;

/// One line of the error summary at the top of the page.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryItem {
    pub href: Option<String>,
    pub label: String,
    pub message: String,
}

/// Shows a refused program's message next to the field it is about: that field, else the first
/// field inside it, else the nearest enclosing field, else its section. Returns the message when
/// no section holds it (it goes to the summary alone).
pub fn place(sections: &mut [Section], path: Option<String>, message: String) -> Option<String> {
    let Some(path) = path else {
        return Some(message);
    };
    // `rewards[0].title` → `rewards.0.title`.
    let path = path.replace('[', ".").replace(']', "");
    let fields = || {
        sections
            .iter()
            .flat_map(|s| &s.fields)
            .filter(|f| f.input.shows_errors())
    };
    let exact = fields().position(|f| f.path == path);
    let inside = fields().position(|f| f.path.starts_with(&format!("{path}.")));
    let enclosing = fields()
        .enumerate()
        .filter(|(_, f)| path.starts_with(&format!("{}.", f.path)))
        .max_by_key(|(_, f)| f.path.len())
        .map(|(i, _)| i);
    if let Some(index) = exact.or(inside).or(enclosing) {
        let field = sections
            .iter_mut()
            .flat_map(|s| s.fields.iter_mut())
            .filter(|f| f.input.shows_errors())
            .nth(index);
        if let Some(field) = field {
            field.error = Some(message);
            return None;
        }
    }
    let top = path.split('.').next().unwrap_or_default();
    let section = sections.iter_mut().find(|s| {
        s.key == top
            || SECTIONS
                .iter()
                .any(|(key, keys)| *key == s.key && keys.contains(&top))
    });
    match section {
        Some(section) => {
            section.errors.push(message);
            None
        }
        None => Some(message),
    }
}

/// The error summary, and each field's `aria-describedby`.
pub fn finish(
    sections: &mut [Section],
    general: Option<String>,
    words: &Words,
) -> Vec<SummaryItem> {
    let mut summary = Vec::new();
    if let Some(message) = general {
        summary.push(SummaryItem {
            href: None,
            label: words.text("program").to_owned(),
            message,
        });
    }
    for section in sections.iter_mut() {
        for message in &section.errors {
            summary.push(SummaryItem {
                href: Some(format!("s-{}", section.key)),
                label: section.legend.clone(),
                message: message.clone(),
            });
        }
        for field in &mut section.fields {
            let mut ids = Vec::new();
            if field.example.is_some() {
                ids.push(format!("{}-hint", field.id));
            }
            if let Some(message) = &field.error {
                ids.push(format!("{}-error", field.id));
                let label = match &field.group {
                    Some(row) => format!("{row} › {}", field.label),
                    None => field.label.clone(),
                };
                summary.push(SummaryItem {
                    href: Some(field.id.clone()),
                    label,
                    message: message.clone(),
                });
            }
            field.described_by = ids.join(" ");
        }
    }
    summary
}
