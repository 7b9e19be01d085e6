use super::*;

#[test]
fn ids_parse_without_floats() {
    let max = "18446744073709551615";
    assert_eq!(PlatformId::parse(max).unwrap().as_str(), max);
    assert_eq!(PlatformId::parse(max).unwrap().as_u64(), u64::MAX);
    assert_eq!(PlatformId::parse("007").unwrap().as_str(), "7");
    assert_eq!(
        PlatformId::parse("gid://shopify/Order/820982911946154508")
            .unwrap()
            .as_str(),
        "820982911946154508"
    );
    for bad in [
        "",
        "-1",
        "1.0",
        "18446744073709551616",
        "12a",
        " 1",
        "gid://x/Order/",
    ] {
        assert!(PlatformId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn ids_deserialise_from_numbers_and_strings() {
    let from_number: PlatformId = serde_json::from_str("18446744073709551615").unwrap();
    assert_eq!(from_number.as_str(), "18446744073709551615");
    let from_string: PlatformId = serde_json::from_str("\"820982911946154508\"").unwrap();
    assert_eq!(from_string.as_str(), "820982911946154508");
    assert!(serde_json::from_str::<PlatformId>("1.5").is_err());
    assert!(serde_json::from_str::<PlatformId>("-3").is_err());
    assert!(serde_json::from_str::<PlatformId>("18446744073709551616").is_err());
    assert_eq!(
        serde_json::to_string(&from_number).unwrap(),
        "\"18446744073709551615\""
    );
}

#[test]
fn ids_sort_numerically() {
    let mut ids: Vec<PlatformId> = ["10", "9", "100", "11"]
        .iter()
        .map(|s| PlatformId::parse(s).unwrap())
        .collect();
    ids.sort();
    let sorted: Vec<&str> = ids.iter().map(PlatformId::as_str).collect();
    assert_eq!(sorted, ["9", "10", "11", "100"]);
}

#[test]
fn emails_are_normalised() {
    assert_eq!(
        normalise_email("  Jo@Example.COM "),
        Some("jo@example.com".to_owned())
    );
    assert_eq!(normalise_email("   "), None);
}

#[test]
fn financial_status_round_trips() {
    for name in [
        "pending",
        "authorized",
        "partially_paid",
        "paid",
        "partially_refunded",
        "refunded",
        "voided",
        "expired",
    ] {
        let status = FinancialStatus::from(name);
        assert_eq!(status.as_str(), name);
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(
            serde_json::from_str::<FinancialStatus>(&json).unwrap(),
            status
        );
    }
    assert_eq!(
        FinancialStatus::from("expired"),
        FinancialStatus::Unknown("expired".to_owned())
    );
    assert!(FinancialStatus::Refunded.has_been_paid());
    assert!(!FinancialStatus::Authorized.has_been_paid());
}

#[test]
fn events_serialise_with_a_type_tag() {
    let json = serde_json::to_value(Event::ShopRedact).unwrap();
    assert_eq!(json, serde_json::json!({"type": "shop_redact"}));
    let redact = Event::CustomerRedact {
        customer: CustomerRef {
            id: Some(PlatformId::from_u64(1)),
            email: None,
        },
        orders: vec![PlatformId::from_u64(2)],
    };
    let back: Event = serde_json::from_value(serde_json::to_value(&redact).unwrap()).unwrap();
    assert_eq!(back, redact);
}

#[test]
fn mapping_errors_name_the_field() {
    let e = MappingError {
        topic: "orders/paid".to_owned(),
        field: "line_items[0].price".to_owned(),
        problem: Problem::WrongType {
            expected: "a decimal string",
            found: "a boolean",
        },
    };
    assert_eq!(
        e.to_string(),
        "orders/paid: `line_items[0].price` should be a decimal string, not a boolean"
    );
}

#[test]
fn order_snapshots_stored_before_provenance_still_load() {
    let old = serde_json::json!({
        "order_id": "1001", "name": "#1001", "customer": null, "email": null,
        "financial_status": "paid", "cancelled_at": null, "test": false, "currency": "USD",
        "subtotal": 1000, "total_discounts": 0, "total_tax": 0, "shipping": 0, "total": 1000,
        "lines": [], "created_at": "2026-03-01T00:00:00Z", "updated_at": "2026-03-01T00:00:00Z",
        "note_attributes": [], "discount_codes": [], "source_name": null
    });
    let facts: OrderFacts = serde_json::from_value(old).unwrap();
    assert_eq!(facts.provenance, OrderProvenance::default());
    // A partial provenance (a later field added) loads too, the rest empty.
    let partial: OrderProvenance =
        serde_json::from_value(serde_json::json!({"phones": ["+1 555 0100"]})).unwrap();
    assert_eq!(partial.phones, ["+1 555 0100"]);
    assert_eq!(partial.shipping_address, None);
}
