//! The shop's own settings the app keeps: currency, IANA time zone and locale, read at install
//! through the Admin API and from `shop/update` webhooks afterwards.

use serde_json::Value;

/// The locale is the primary domain's default (no extra scope, unlike `shopLocales`).
pub const SHOP_SETTINGS: &str = "query ShopSettings { shop { currencyCode ianaTimezone \
     primaryDomain { localization { defaultLocale } } } }";

/// What the shop says about itself; a field that is absent or not valid is `None` (kept as it
/// was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopSettings {
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
}

impl ShopSettings {
    /// From the `data` of [`SHOP_SETTINGS`].
    pub fn from_graphql(data: &Value) -> Self {
        let text = |path: &str| data.pointer(path).and_then(Value::as_str);
        Self::checked(
            text("/shop/currencyCode"),
            text("/shop/ianaTimezone"),
            text("/shop/primaryDomain/localization/defaultLocale"),
        )
    }

    /// From a `shop/update` webhook body (the REST shop resource).
    pub fn from_webhook(body: &Value) -> Self {
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        Self::checked(
            text("currency"),
            text("iana_timezone"),
            text("primary_locale"),
        )
    }

    /// Keeps only valid values: an ISO 4217 code, an IANA zone, a locale tag.
    pub fn checked(currency: Option<&str>, timezone: Option<&str>, locale: Option<&str>) -> Self {
        let currency = currency
            .map(str::trim)
            .filter(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase()));
        let timezone = timezone
            .map(str::trim)
            .filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok());
        let locale = locale.map(str::trim).filter(|l| {
            !l.is_empty()
                && l.len() <= 35
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        Self {
            currency: currency.map(str::to_owned),
            timezone: timezone.map(str::to_owned),
            locale: locale.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_graphql_answer() {
        let data = json!({"shop": {"currencyCode": "EUR", "ianaTimezone": "Europe/Berlin",
            "primaryDomain": {"localization": {"defaultLocale": "de"}}}});
        assert_eq!(
            ShopSettings::from_graphql(&data),
            ShopSettings {
                currency: Some("EUR".into()),
                timezone: Some("Europe/Berlin".into()),
                locale: Some("de".into()),
            }
        );
    }

    #[test]
    fn invalid_or_missing_values_are_left_out() {
        let body =
            json!({"currency": "euro", "iana_timezone": "Mars/Olympus", "primary_locale": "pt-BR"});
        assert_eq!(
            ShopSettings::from_webhook(&body),
            ShopSettings {
                currency: None,
                timezone: None,
                locale: Some("pt-BR".into()),
            }
        );
        assert_eq!(
            ShopSettings::from_graphql(&json!({})),
            ShopSettings::default()
        );
    }
}
