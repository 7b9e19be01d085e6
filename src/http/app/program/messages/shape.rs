//! serde's shape errors ("invalid type: string \"ten\", expected u32", "unknown variant `x`,
//! expected one of …") said to an owner in English and Arabic. serde has no structured form of
//! them, so its wording is read; a message it phrases some other way is kept as it is (in
//! English, inside the Arabic sentence) rather than lost.

use super::{iso, Said};

/// serde's message without " at line 1 column 220", which points into JSON the owner never saw.
pub fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// A shape error in both languages.
pub fn rephrase(text: &str) -> Said {
    if let Some(rest) = text.strip_prefix("invalid type: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return not_accepted(got, expected);
        }
    }
    if let Some(rest) = text.strip_prefix("invalid value: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return not_accepted(got, expected);
        }
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        let (variant, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let variant = variant.trim_matches('`');
        let choices = choices(expected);
        return Said::new(
            format!("“{variant}” is not one of the choices ({choices})."),
            format!(
                "«{}» ليس من الخيارات المتاحة ({}).",
                iso(variant),
                iso(&choices)
            ),
        );
    }
    if let Some(rest) = text.strip_prefix("unknown field `") {
        // "unknown field `x`, expected one of …", or "… `x` in a percent reward".
        let field = rest.split('`').next().unwrap_or(rest);
        return Said::new(
            format!("“{field}” is not a setting here; check its spelling."),
            format!("«{}» ليس إعدادًا هنا؛ تحقّق من كتابته.", iso(field)),
        );
    }
    if let Some(rest) = text.strip_prefix("missing field ") {
        let field = rest.trim_matches('`');
        return Said::new(
            format!("“{field}” is required here."),
            format!("الحقل «{}» مطلوب هنا.", iso(field)),
        );
    }
    if let Some(rest) = text.strip_prefix("duplicate field ") {
        let field = rest.trim_matches('`');
        return Said::new(
            format!("“{field}” is given twice."),
            format!("الحقل «{}» مذكور مرتين.", iso(field)),
        );
    }
    Said::new(text, format!("قيمة غير صالحة: {}", iso(text)))
}

/// "`a`, `b`" or "one of `a`, `b`" or "`a` or `b`" → "a, b".
fn choices(expected: &str) -> String {
    expected
        .trim_start_matches("one of ")
        .replace("` or `", ", ")
        .replace('`', "")
}

fn not_accepted(got: &str, expected: &str) -> Said {
    let (got_en, got_ar) = unexpected(got);
    let (want_en, want_ar) = wanted(expected);
    Said::new(
        format!("{got_en} is not accepted here: enter {want_en}."),
        format!("{got_ar} غير مقبول هنا: أدخل {want_ar}."),
    )
}

/// serde's `Unexpected` (`integer \`-5\``, `string "ten"`, `null`) as the owner wrote it.
fn unexpected(got: &str) -> (String, String) {
    let quoted = |value: &str| {
        let value = value.trim_matches(['`', '"']);
        (value.to_owned(), iso(value))
    };
    for prefix in [
        "integer ",
        "floating point ",
        "boolean ",
        "string ",
        "character ",
    ] {
        if let Some(value) = got.strip_prefix(prefix) {
            return quoted(value);
        }
    }
    match got {
        "null" => ("Nothing".into(), "الفراغ".into()),
        "sequence" => ("A list".into(), "القائمة".into()),
        "map" => ("A group of settings".into(), "مجموعة الإعدادات".into()),
        other => (other.to_owned(), iso(other)),
    }
}

/// serde's `Expected` (`u32`, `a string`, `a sequence`) in words.
fn wanted(expected: &str) -> (String, String) {
    let (en, ar) = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => {
            ("a whole number, 0 or more", "عددًا صحيحًا، 0 أو أكثر")
        }
        "i8" | "i16" | "i32" | "i64" | "isize" => ("a whole number", "عددًا صحيحًا"),
        "f32" | "f64" => ("a number", "رقمًا"),
        "a string" | "a borrowed string" | "string" => ("text", "نصًا"),
        "a boolean" => ("yes or no", "نعم أو لا"),
        "a sequence" => ("a list", "قائمة"),
        "a map" => ("a group of settings", "مجموعة إعدادات"),
        "a formatted date and time string or a unix timestamp" => (
            "a date and time like 2026-11-27T00:00:00Z",
            "تاريخًا ووقتًا مثل \u{200E}2026-11-27T00:00:00Z\u{200E}",
        ),
        other if other.starts_with("struct ") => ("a group of settings", "مجموعة إعدادات"),
        other => return (other.to_owned(), iso(other)),
    };
    (en.to_owned(), ar.to_owned())
}
