use chrono::TimeZone;

use super::*;

fn request(value: DiscountValue) -> DiscountRequest {
    DiscountRequest {
        code: "GLOW-ABCDE-FGHJK".into(),
        title: "5 off your order".into(),
        audience: Audience::Customer("7001".into()),
        value,
        min_subtotal: Some("50.00".into()),
        starts_at: chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .unwrap(),
        ends_at: Some(
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 23, 10, 0, 0)
                .unwrap(),
        ),
        usage_limit: Some(1),
        once_per_customer: true,
    }
}

/// A friend's or an affiliate's code: for anyone, `usage_limit` uses in all.
fn for_anyone(usage_limit: Option<u32>) -> DiscountRequest {
    DiscountRequest {
        audience: Audience::Anyone,
        usage_limit,
        ..request(DiscountValue::Amount("10.00".into()))
    }
}

#[test]
fn a_fixed_amount_code_is_single_use_and_for_one_customer() {
    let input = discount_input(
        &request(DiscountValue::Amount("5.00".into())),
        "2025-10",
        None,
    )
    .unwrap();
    assert_eq!(input["code"], "GLOW-ABCDE-FGHJK");
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(input["appliesOncePerCustomer"], true);
    assert_eq!(
        input["context"],
        json!({"customers": {"add": ["gid://shopify/Customer/7001"]}})
    );
    assert!(input.get("customerSelection").is_none());
    assert_eq!(
        input["customerGets"]["value"]["discountAmount"]["amount"],
        "5.00"
    );
    assert_eq!(
        input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"],
        "50.00"
    );
    assert_eq!(input["endsAt"], "2026-12-23T10:00:00+00:00");
}

#[test]
fn older_api_versions_use_customer_selection() {
    let input = discount_input(&request(DiscountValue::Percent(10)), "2025-07", None).unwrap();
    assert_eq!(
        input["customerSelection"],
        json!({"customers": {"add": ["gid://shopify/Customer/7001"]}})
    );
    assert!(input.get("context").is_none());
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(input["appliesOncePerCustomer"], true);
    assert_eq!(input["customerGets"]["value"]["percentage"], 0.1);
}

#[test]
fn a_code_for_anyone_takes_the_shape_of_each_api_version() {
    // 2025-10 and later: `context.all` is the enum `ALL`.
    for version in ["2025-10", "2026-04"] {
        let input = discount_input(&for_anyone(Some(1)), version, None).unwrap();
        assert_eq!(input["context"], json!({"all": "ALL"}), "{version}");
        assert!(input.get("customerSelection").is_none(), "{version}");
        assert_eq!(input["usageLimit"], 1);
        assert_eq!(input["appliesOncePerCustomer"], true);
    }
    // Before: `customerSelection.all` is a boolean.
    for version in ["2024-10", "2025-07"] {
        let input = discount_input(&for_anyone(Some(1)), version, None).unwrap();
        assert_eq!(
            input["customerSelection"],
            json!({"all": true}),
            "{version}"
        );
        assert!(input.get("context").is_none(), "{version}");
        assert_eq!(input["usageLimit"], 1);
    }
}

#[test]
fn an_unlimited_code_sends_no_usage_limit() {
    for version in ["2025-07", "2025-10"] {
        let input = discount_input(&for_anyone(None), version, None).unwrap();
        // Absent means unlimited; `null` would be read the same, but absent is unambiguous.
        assert!(input.get("usageLimit").is_none(), "{version}: {input}");
        assert_eq!(input["appliesOncePerCustomer"], true);
    }
    let many_times = DiscountRequest {
        once_per_customer: false,
        ..for_anyone(None)
    };
    let input = discount_input(&many_times, "2025-10", None).unwrap();
    assert_eq!(input["appliesOncePerCustomer"], false);
}

#[test]
fn a_code_nobody_could_use_is_never_sent() {
    assert!(matches!(
        discount_input(&for_anyone(Some(0)), "2025-10", None),
        Err(ApiError::InvalidDiscount(_))
    ));
}

#[test]
fn free_shipping_and_free_products_take_their_shapes() {
    let ship = discount_input(
        &request(DiscountValue::FreeShipping {
            max_shipping: Some("20.00".into()),
        }),
        "2025-10",
        None,
    )
    .unwrap();
    assert_eq!(ship["destination"]["all"], true);
    assert_eq!(ship["maximumShippingPrice"], "20.00");
    assert!(ship.get("customerGets").is_none());
    let product = discount_input(
        &request(DiscountValue::FreeVariant("4001".into())),
        "2025-10",
        Some("24.00"),
    )
    .unwrap();
    assert_eq!(
        product["customerGets"],
        json!({"value": {"discountAmount": {"amount": "24.00", "appliesOnEachItem": false}},
               "items": {"products": {"productVariantsToAdd": ["gid://shopify/ProductVariant/4001"]}}})
    );
}

#[test]
fn a_free_product_without_a_price_above_zero_is_never_sent() {
    for price in [None, Some("0.00"), Some("-3.00")] {
        let built = discount_input(
            &request(DiscountValue::FreeVariant("4001".into())),
            "2025-10",
            price,
        );
        assert!(
            matches!(built, Err(ApiError::InvalidDiscount(_))),
            "{price:?}"
        );
    }
}

#[test]
fn a_negative_amount_is_never_sent() {
    for amount in ["-1.00", "0.00"] {
        let built = discount_input(
            &request(DiscountValue::Amount(amount.into())),
            "2025-10",
            None,
        );
        assert!(
            matches!(built, Err(ApiError::InvalidDiscount(_))),
            "{amount}"
        );
    }
}

#[test]
fn a_taken_code_is_told_apart_from_other_refusals() {
    let taken = json!({"userErrors": [{"field": ["basicCodeDiscount", "code"], "message": "Code must be unique. Please try a different code.", "code": "TAKEN"}]});
    assert!(code_taken(Some(&taken)));
    let by_message = json!({"userErrors": [{"field": ["basicCodeDiscount", "code"], "message": "Code must be unique"}]});
    assert!(code_taken(Some(&by_message)));
    let other = json!({"userErrors": [{"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at needs to be after starts_at"}]});
    assert!(!code_taken(Some(&other)));
    assert!(!code_taken(None));
}
