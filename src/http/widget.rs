//! `GET /widget.js`: the storefront script, embedded in the binary. Served with a content-hash
//! ETag so browsers revalidate cheaply (304), and cacheable for a year when asked for by hash
//! (`/widget.js?v={hash}`), since that URL's content can never change.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::crypto::sha256_hex;

/// The script, as shipped. Plain JavaScript: no build step, no framework.
pub const SCRIPT: &str = include_str!("widget/widget.js");

/// The first 16 hex digits of the script's SHA-256: its version.
pub static HASH: LazyLock<String> = LazyLock::new(|| sha256_hex(SCRIPT).chars().take(16).collect());

static ETAG: LazyLock<String> = LazyLock::new(|| format!("\"{}\"", *HASH));

/// The script's URL path with its version, for pages this app renders itself.
pub fn versioned_path() -> String {
    format!("/widget.js?v={}", *HASH)
}

pub async fn script(req: HttpRequest) -> HttpResponse {
    let etag = ETAG.as_str();
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let pinned = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "v" && v == HASH.as_str());
    let cache = if pinned {
        "public, max-age=31536000, immutable"
    } else {
        // Short, so a new release reaches storefronts within minutes; the ETag keeps it cheap.
        "public, max-age=300, stale-while-revalidate=86400"
    };
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Storefronts on any domain load it, also with `crossorigin` and subresource integrity.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if fresh {
        response.finish()
    } else {
        response
            .content_type("text/javascript; charset=utf-8")
            .body(SCRIPT)
    }
}
