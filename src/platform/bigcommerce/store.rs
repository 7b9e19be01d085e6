//! What a BigCommerce store says about itself (`GET v2/store`): the settings the app keeps.

use serde_json::Value;

use crate::platform::shopify::shop_query::ShopSettings;

/// Currency, IANA time zone and language from the v2 store resource (`currency`,
/// `timezone.name`, `language`); a field absent or not valid is `None` (kept as it was).
pub fn settings(store: &Value) -> ShopSettings {
    let text = |path: &str| store.pointer(path).and_then(Value::as_str);
    ShopSettings::checked(text("/currency"), text("/timezone/name"), text("/language"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_currency_time_zone_and_language() {
        let store = json!({"id": "abc123", "currency": "EUR", "language": "de",
            "timezone": {"name": "Europe/Berlin", "raw_offset": 3600}});
        assert_eq!(
            settings(&store),
            ShopSettings {
                currency: Some("EUR".into()),
                timezone: Some("Europe/Berlin".into()),
                locale: Some("de".into()),
            }
        );
        let odd = json!({"currency": "euro", "timezone": {"name": "Mars/Olympus"}});
        assert_eq!(settings(&odd), ShopSettings::default());
    }
}
