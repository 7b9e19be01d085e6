//! Reading a catalog an owner sent, field by field, so a typo is refused rather than ignored.

use serde::{de::Error as _, Deserialize, Deserializer};

use super::Reward;

/// The fields every reward has, whatever its kind.
const COMMON_FIELDS: &[&str] = &[
    "id",
    "title",
    "titles",
    "kind",
    "points_cost",
    "min_order_minor",
    "expires_days",
    "tier",
    "active",
];

/// The fields of each kind (`RewardKind`), beside the common ones.
fn kind_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "fixed_amount" => &["amount_minor"],
        "percent" => &["percent"],
        "free_shipping" => &["max_shipping_minor"],
        "free_product" => &["variant_id"],
        "variable" => &["points_per_unit", "min_points", "max_points"],
        "donation" => &["charity", "amount_minor"],
        "custom" => &["description"],
        _ => &[],
    }
}

/// Reads a catalog (`deserialize_with` of the program's `rewards`), refusing by name any field
/// a reward of its kind does not have. `Reward` cannot simply deny unknown fields: its kind's
/// figures are flattened beside the common fields, and with `flatten` serde cannot tell which
/// fields the kind used.
pub fn strict_catalog<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Reward>>, D::Error> {
    let Some(raw) = Option::<Vec<serde_json::Map<String, serde_json::Value>>>::deserialize(d)?
    else {
        return Ok(None);
    };
    raw.into_iter()
        .map(|fields| {
            let kind = fields
                .get("kind")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let known = |k: &str| COMMON_FIELDS.contains(&k) || kind_fields(kind).contains(&k);
            if let Some(unknown) = fields.keys().find(|k| !known(k)) {
                return Err(D::Error::custom(format_args!(
                    "unknown field `{unknown}` in a {kind} reward"
                )));
            }
            serde_json::from_value(serde_json::Value::Object(fields)).map_err(D::Error::custom)
        })
        .collect::<Result<Vec<Reward>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rewards::{default_catalog, RewardKind};

    fn read(json: serde_json::Value) -> Result<Option<Vec<Reward>>, serde_json::Error> {
        strict_catalog(json)
    }

    #[test]
    fn every_field_a_reward_writes_is_read_back() {
        let mut catalog = default_catalog(100);
        let kinds = [
            RewardKind::Percent { percent: 15 },
            RewardKind::FreeShipping {
                max_shipping_minor: Some(900),
            },
            RewardKind::FreeProduct {
                variant_id: "42".into(),
            },
            RewardKind::Variable {
                points_per_unit: 100,
                min_points: 100,
                max_points: 800,
            },
            RewardKind::Donation {
                charity: "Red Crescent".into(),
                amount_minor: 500,
            },
            RewardKind::Custom {
                description: "A signed poster".into(),
            },
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let mut r = catalog[0].clone();
            r.id = format!("r{i}");
            r.kind = kind;
            r.min_order_minor = Some(1000);
            r.tier = Some("gold".into());
            catalog.push(r);
        }
        let written = serde_json::to_value(&catalog).unwrap();
        assert_eq!(read(written).unwrap(), Some(catalog));
        assert_eq!(read(serde_json::Value::Null).unwrap(), None);
    }

    #[test]
    fn a_field_its_kind_does_not_have_is_refused_by_name() {
        let base = serde_json::json!({"id": "x", "title": "t", "points_cost": 10});
        for (extra, field) in [
            (
                serde_json::json!({"kind": "percent", "percent": 10, "percnt": 5}),
                "percnt",
            ),
            (
                serde_json::json!({"kind": "percent", "percent": 10, "amount_minor": 5}),
                "amount_minor",
            ),
            (
                serde_json::json!({"kind": "fixed_amount", "amount_minor": 5, "expires": 3}),
                "expires",
            ),
            (
                serde_json::json!({"kind": "donation", "charity": "c", "amount_minor": 5, "description": "d"}),
                "description",
            ),
            (
                serde_json::json!({"kind": "custom", "description": "d", "charity": "c"}),
                "charity",
            ),
        ] {
            let mut reward = base.clone();
            reward
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let err = read(serde_json::json!([reward])).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("unknown field `{field}`")),
                "{err}"
            );
        }
        assert!(read(
            serde_json::json!([{"id": "x", "title": "t", "kind": "gift_card", "points_cost": 10}])
        )
        .is_err());
    }
}
