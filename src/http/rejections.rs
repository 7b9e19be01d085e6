//! What a client is told when actix's extractors refuse its input: plain sentences in the usual
//! JSON shape, never the parser's own wording (serde's "at line 1 column 7", type names, the
//! library's error display).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;

use crate::error::{AppError, ErrorCode};

/// The JSON body extractor: `limit` bytes at most.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_rejection(&err, limit).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let QueryPayloadError::Deserialize(e) = &err else {
            return AppError::bad_request("the query string is malformed").into();
        };
        AppError::bad_request(field_problem(&e.to_string(), "query parameter")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let PathError::Deserialize(e) = &err else {
            return AppError::bad_request("the path is malformed").into();
        };
        AppError::bad_request(field_problem(&e.to_string(), "path segment")).into()
    })
}

fn json_rejection(err: &JsonPayloadError, limit: usize) -> AppError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than the limit of {limit} bytes"),
            )
        }
        JsonPayloadError::ContentType => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) => match e.classify() {
            serde_json::error::Category::Data => AppError::new(
                ErrorCode::InvalidJson,
                field_problem(&e.to_string(), "field"),
            ),
            _ => AppError::new(ErrorCode::InvalidJson, "the body is not valid JSON"),
        },
        JsonPayloadError::Payload(_) => AppError::bad_request("the request body could not be read"),
        _ => AppError::new(ErrorCode::InvalidJson, "the body is not valid JSON"),
    }
}

/// A plain sentence for a serde data error: which field is missing or unexpected when serde
/// says so (the name is the API's own, so it is safe to repeat), else that some `thing` has
/// the wrong type or value.
fn field_problem(serde_message: &str, thing: &str) -> String {
    let quoted_name = |prefix: &str| {
        serde_message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .filter(|name| {
                !name.is_empty()
                    && name.len() <= 64
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .map(str::to_owned)
    };
    if let Some(name) = quoted_name("missing field `") {
        format!("the {thing} {name} is missing")
    } else if let Some(name) = quoted_name("unknown field `") {
        format!("the {thing} {name} is not known here")
    } else {
        format!("a {thing} has the wrong type or value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_wording_becomes_plain_sentences() {
        assert_eq!(
            field_problem("missing field `reward_id` at line 1 column 2", "field"),
            "the field reward_id is missing"
        );
        assert_eq!(
            field_problem(
                "unknown field `pts`, expected `points` or `reason`",
                "field"
            ),
            "the field pts is not known here"
        );
        let odd = field_problem(
            "invalid type: string \"5\", expected i64 at line 1",
            "field",
        );
        assert_eq!(odd, "a field has the wrong type or value");
        assert_eq!(
            field_problem("invalid digit found in string", "query parameter"),
            "a query parameter has the wrong type or value"
        );
    }
}
