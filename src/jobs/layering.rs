//! Keeps the layering of background work: the queue below the services, the job runner above
//! them. A service that imported the runner (to enqueue, or for its context) would bring back
//! the module cycle the queue was split out to break; these tests name the file that does.
//!
//! Only code counts, before a file's first `#[cfg(test)]`: a comment may point a reader at the
//! runner, and a unit test may set its data up through any module, without making the shipped
//! modules depend on each other.

use std::path::{Path, PathBuf};

/// The modules below the job runner: none of them may name `crate::jobs`.
const BELOW_THE_RUNNER: &[&str] = &["services", "domain", "db", "queue", "platform", "crypto"];

/// The modules below the services: none of them may name `crate::services` either.
const BELOW_THE_SERVICES: &[&str] = &["queue", "db", "domain", "platform", "crypto"];

#[test]
fn nothing_below_the_job_runner_imports_it() {
    let offenders = importers_of("jobs", BELOW_THE_RUNNER);
    assert!(
        offenders.is_empty(),
        "these modules sit below the job runner but import it (enqueue through `crate::queue` \
         instead): {offenders:?}"
    );
}

#[test]
fn the_job_queue_imports_no_service() {
    let offenders = importers_of("services", BELOW_THE_SERVICES);
    assert!(
        offenders.is_empty(),
        "these modules sit below the services but import them: {offenders:?}"
    );
}

#[test]
fn an_import_of_the_runner_is_seen_in_every_spelling() {
    assert!(names_module("use crate::jobs::JobKind;", "jobs"));
    assert!(names_module("crate::jobs::enqueue(c, spec)", "jobs"));
    assert!(names_module(
        "use crate::{db, jobs::{self, JobSpec}};",
        "jobs"
    ));
    assert!(names_module("use crate::{\n    db,\n    jobs,\n};", "jobs"));
    // The `jobs` table of the schema is not the runner.
    assert!(!names_module(
        "use crate::db::schema::{jobs, shops};",
        "jobs"
    ));
    assert!(!names_module(
        "use crate::{db::schema::jobs, queue};",
        "jobs"
    ));
    assert!(!names_module("crate::jobs_archive::x", "jobs"));
}

/// The source files of `modules` (each `src/<m>.rs` and everything under `src/<m>/`) whose
/// shipped code names `crate::<module>`.
fn importers_of(module: &str, modules: &[&str]) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for m in modules {
        files.push(src.join(format!("{m}.rs")));
        rust_files_under(&src.join(m), &mut files);
    }
    assert!(
        files.len() > modules.len(),
        "no source files found under {src:?}"
    );
    files
        .into_iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
            // Comments may name the runner (to point a reader at it); only code depends on it.
            let code: String = shipped
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            names_module(&code, module)
        })
        .map(|file| {
            file.strip_prefix(&src)
                .map(Path::to_path_buf)
                .unwrap_or(file)
        })
        .collect()
}

fn rust_files_under(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.map(|e| e.unwrap_or_else(|e| panic!("{e}")).path()) {
        if path.is_dir() {
            rust_files_under(&path, into);
        } else if path.extension().is_some_and(|x| x == "rs") {
            into.push(path);
        }
    }
}

/// Whether `code` names the top-level module `module`: `crate::module` as a path, or `module`
/// as a top-level item of a `crate::{…}` group.
fn names_module(code: &str, module: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let direct = format!("crate::{module}");
    let as_path = code
        .match_indices(&direct)
        .any(|(at, _)| !code[at + direct.len()..].starts_with(is_ident));
    let in_group = code.match_indices("crate::{").any(|(at, open)| {
        let group = &code[at + open.len()..];
        let (mut depth, mut item) = (0usize, String::new());
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => return first_segment(&item) == module,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    if first_segment(&item) == module {
                        return true;
                    }
                    item.clear();
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                item.push(c);
            }
        }
        false
    });
    as_path || in_group
}

/// `jobs` of `jobs::{self, X}`, `jobs::X` or `jobs`.
fn first_segment(item: &str) -> &str {
    item.trim().split("::").next().unwrap_or_default().trim()
}
