//! Platform ids as webhooks send them (digits, or GraphQL global ids): `PlatformId::parse` and
//! the admin API's `legacy_id`.

#![no_main]

use boomerang::domain::event::PlatformId;
use boomerang::platform::shopify::api::legacy_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = PlatformId::parse(&text) {
        let digits = id.as_str();
        // Canonical: digits only, no leading zeros, fits in u64, and reads back as itself.
        assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(digits == "0" || !digits.starts_with('0'), "{digits:?}");
        assert_eq!(digits.parse::<u64>().ok(), Some(id.as_u64()));
        assert_eq!(PlatformId::parse(digits).as_ref(), Ok(&id));
        assert_eq!(PlatformId::from_u64(id.as_u64()), id);
        // It survives storage as JSON.
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<PlatformId>(&json).ok(),
            Some(id.clone())
        );
    }
    if let Some(id) = legacy_id(&text) {
        assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        assert!(text.ends_with(id));
    }
    // Ids read from JSON: an integer or a string, never a float.
    if let Ok(id) = serde_json::from_str::<PlatformId>(&text) {
        assert!(!id.as_str().is_empty());
    }
});
