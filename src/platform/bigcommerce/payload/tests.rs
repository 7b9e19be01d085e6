use serde_json::{json, Value};

use super::fields::rounded_minor;
use super::*;

const DOCUMENT: &str = include_str!("../../../../tests/fixtures/bigcommerce/order_document.json");
const CREATED: &str =
    include_str!("../../../../tests/fixtures/bigcommerce/store_order_created.json");
const STATUS_UPDATED: &str =
    include_str!("../../../../tests/fixtures/bigcommerce/store_order_statusUpdated.json");

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn document() -> Value {
    serde_json::from_str(DOCUMENT).unwrap()
}

fn map(body: &Value) -> Event {
    match map_bigcommerce(ORDER_DOCUMENT_TOPIC, body, &usd()) {
        Ok(Some(Mapped::Event(event))) => *event,
        other => panic!("not an event: {other:?}"),
    }
}

fn facts(body: &Value) -> OrderFacts {
    match map(body) {
        Event::Order(facts) | Event::OrderCancelled(facts) => facts,
        other => panic!("not an order: {other:?}"),
    }
}

fn with_status(status_id: i64) -> Value {
    let mut body = document();
    body["order"]["status_id"] = json!(status_id);
    body
}

fn refund(id: u64, total: Value, items: Value) -> Value {
    json!({"id": id, "order_id": 250, "user_id": 1, "created": "2026-11-21T09:00:00+00:00",
           "reason": "", "total_amount": total, "total_tax": 0, "items": items,
           "payments": [{"id": 1, "provider_id": "storecredit", "amount": total,
                         "offline": false, "is_declined": false}]})
}

#[test]
fn the_documented_thin_webhooks_ask_for_their_order() {
    for body in [CREATED, STATUS_UPDATED] {
        let body: Value = serde_json::from_str(body).unwrap();
        let topic = body["scope"].as_str().unwrap().to_owned();
        assert_eq!(
            map_bigcommerce(&topic, &body, &usd()),
            Ok(Some(Mapped::FetchOrder(PlatformId::from_u64(250))))
        );
    }
    let refund = json!({"scope": "store/order/refund/created", "store_id": "1",
        "data": {"type": "order", "id": 251, "refund": {"refund_id": 3}},
        "hash": "h", "created_at": 1, "producer": "stores/abc"});
    assert_eq!(
        map_bigcommerce("store/order/refund/created", &refund, &usd()),
        Ok(Some(Mapped::FetchOrder(PlatformId::from_u64(251))))
    );
}

#[test]
fn uninstalling_is_the_apps_removal() {
    let body = json!({"scope": "store/app/uninstalled", "store_id": "1",
        "data": {"type": "store", "id": 1}, "hash": "h", "created_at": 1, "producer": "stores/abc"});
    assert_eq!(
        map_bigcommerce(UNINSTALLED_TOPIC, &body, &usd()),
        Ok(Some(Mapped::Event(Box::new(Event::AppUninstalled))))
    );
}

#[test]
fn thin_webhooks_of_another_shape_name_the_field() {
    let missing_id = json!({"scope": "store/order/created", "data": {"type": "order"},
        "hash": "h", "producer": "stores/abc"});
    let err = map_bigcommerce("store/order/created", &missing_id, &usd()).unwrap_err();
    assert_eq!(
        (err.topic.as_str(), err.field.as_str()),
        ("store/order/created", "data.id")
    );
    let product = json!({"scope": "store/order/created", "data": {"type": "product", "id": 1},
        "hash": "h", "producer": "stores/abc"});
    let err = map_bigcommerce("store/order/created", &product, &usd()).unwrap_err();
    assert_eq!(err.field, "data.type");
    let no_producer = json!({"scope": "store/order/created", "data": {"type": "order", "id": 1}});
    let err = map_bigcommerce("store/order/created", &no_producer, &usd()).unwrap_err();
    assert_eq!(err.field, "producer");
    let err = map_bigcommerce(UNREADABLE_TOPIC, &json!({"scope": 7}), &usd()).unwrap_err();
    assert_eq!(
        (err.topic.as_str(), err.field.as_str()),
        (UNREADABLE_TOPIC, "scope")
    );
    let err = map_bigcommerce(UNREADABLE_TOPIC, &json!([1, 2]), &usd()).unwrap_err();
    assert_eq!(err.field, "(body)");
}

#[test]
fn other_topics_are_not_used() {
    for topic in [
        "store/customer/created",
        "store/product/updated",
        "order.updated",
    ] {
        assert_eq!(map_bigcommerce(topic, &json!({}), &usd()), Ok(None));
    }
}

#[test]
fn the_document_is_a_paid_guest_order_earning_on_goods_after_discounts() {
    let f = facts(&document());
    assert_eq!(f.order_id.as_str(), "250");
    assert_eq!(f.name, "#250");
    assert_eq!(f.customer, None, "customer_id 0 is a guest");
    assert_eq!(f.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(f.financial_status, FinancialStatus::Paid);
    // 20.00 - 2.00 of coupon + 6.00: tax and shipping earn nothing.
    assert_eq!(f.subtotal, Money::new(2400));
    assert_eq!(f.total, Money::new(3140));
    assert_eq!(f.total_tax, Money::new(240));
    assert_eq!(f.shipping, Money::new(500));
    assert_eq!(f.total_discounts, Money::new(200));
    assert_eq!(f.discount_codes, ["SAVE2"]);
    assert_eq!(f.lines.len(), 2);
    assert_eq!(f.lines[0].line_id.as_str(), "65");
    assert_eq!(f.lines[0].unit_price, Money::new(1000));
    assert_eq!(f.lines[0].total_discount, Money::new(200));
    assert_eq!(f.lines[1].variant_id.as_ref().unwrap().as_str(), "102");
    assert_eq!(f.created_at.to_rfc3339(), "2026-11-20T10:00:00+00:00");
    assert_eq!(f.updated_at.to_rfc3339(), "2026-11-20T10:00:05+00:00");
    assert_eq!(f.source_name.as_deref(), Some("www"));
    assert_eq!(f.customer_locale.as_deref(), Some("en"));
    assert!(f.refunds.is_empty() && f.cancelled_at.is_none());
    assert_eq!(f.provenance.browser_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(f.provenance.phones, ["555-123-4567"]);
    let billing = f.provenance.billing_address.unwrap();
    assert_eq!(billing.country_code.as_deref(), Some("US"));
}

#[test]
fn a_registered_customer_is_named_by_id() {
    let mut body = document();
    body["order"]["customer_id"] = json!(31);
    let f = facts(&body);
    assert_eq!(f.customer.unwrap().id.unwrap().as_str(), "31");
    assert_eq!(f.email.as_deref(), Some("jane.doe@example.com"));
}

#[test]
fn every_status_id_maps_to_a_payment_state() {
    for paid in [2, 3, 8, 9, 10, 11] {
        assert_eq!(
            facts(&with_status(paid)).financial_status,
            FinancialStatus::Paid,
            "{paid}"
        );
    }
    for unpaid in [1, 7, 12, 13] {
        let f = facts(&with_status(unpaid));
        assert_eq!(f.financial_status, FinancialStatus::Pending, "{unpaid}");
        assert!(!f.financial_status.has_been_paid());
    }
    for never in [0, 6] {
        assert_eq!(
            facts(&with_status(never)).financial_status,
            FinancialStatus::Voided
        );
    }
    assert_eq!(
        facts(&with_status(99)).financial_status,
        FinancialStatus::Unknown("status_id 99".into())
    );
    match map(&with_status(5)) {
        Event::OrderCancelled(f) => assert_eq!(f.cancelled_at, Some(f.updated_at)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refunds_are_a_set_keyed_by_their_ids() {
    let mut body = with_status(14);
    body["refunds"] = json!([
        refund(
            7,
            json!(6.0),
            json!([{"item_type": "ORDER", "item_id": 250, "requested_amount": 6}])
        ),
        refund(
            8,
            json!("1.50"),
            json!([
                {"item_type": "PRODUCT", "item_id": 66, "quantity": 1, "requested_amount": null},
                {"item_type": "SHIPPING", "item_id": 12, "requested_amount": 1.5}
            ])
        ),
    ]);
    let f = facts(&body);
    assert_eq!(f.financial_status, FinancialStatus::PartiallyRefunded);
    let amounts: Vec<(&str, i64)> = f
        .refunds
        .iter()
        .map(|r| (r.refund_id.as_str(), r.amount.minor))
        .collect();
    assert_eq!(amounts, [("7", 600), ("8", 150)]);
    assert!(f.refunds[0].lines.is_empty());
    assert_eq!(f.refunds[1].lines[0].line_item_id.as_str(), "66");
    assert_eq!(f.refunds[1].lines[0].quantity, 1);
    assert_eq!(f.refunds[1].shipping, Money::new(150));
    assert_eq!(
        f.refunds[0].created_at.unwrap().to_rfc3339(),
        "2026-11-21T09:00:00+00:00"
    );
    // A paid-like status with refunds listed is partly refunded too.
    body["order"]["status_id"] = json!(2);
    assert_eq!(
        facts(&body).financial_status,
        FinancialStatus::PartiallyRefunded
    );
}

#[test]
fn a_refund_whose_payments_were_all_declined_returned_nothing() {
    let mut declined = refund(9, json!(6), json!([]));
    declined["payments"][0]["is_declined"] = json!(true);
    let mut body = with_status(11);
    body["refunds"] = json!([declined]);
    let f = facts(&body);
    assert!(f.refunds.is_empty());
    assert_eq!(f.financial_status, FinancialStatus::Paid);
}

#[test]
fn a_refunded_status_reads_the_rest_as_one_more_refund() {
    let mut body = with_status(4);
    body["refunds"] = json!([refund(7, json!(10), json!([]))]);
    let f = facts(&body);
    assert_eq!(f.financial_status, FinancialStatus::Refunded);
    let rest = f
        .refunds
        .iter()
        .find(|r| r.refund_id == rest_refund_id(&f.order_id))
        .expect("the rest");
    assert_eq!(rest.amount, Money::new(2140));
    assert_eq!(rest.refund_id.as_str(), "9223372036854776058", "2^63 + 250");
    body["refunds"] = json!([refund(7, json!(31.4), json!([]))]);
    assert_eq!(facts(&body).refunds.len(), 1, "already refunded in full");
    // Set by hand with no refund at all: everything went back.
    let f = facts(&with_status(4));
    assert_eq!(f.refunds.len(), 1);
    assert_eq!(f.refunds[0].amount, f.total);
}

#[test]
fn four_place_amounts_round_to_the_currencys_unit() {
    assert_eq!(rounded_minor("336.3200", 2), Ok(33632));
    assert_eq!(rounded_minor("8.3333", 2), Ok(833));
    assert_eq!(rounded_minor("8.3350", 2), Ok(834));
    assert_eq!(rounded_minor("-8.335", 2), Ok(-834));
    assert_eq!(rounded_minor("45", 2), Ok(4500));
    assert_eq!(rounded_minor("1200.4999", 0), Ok(1200));
    assert!(
        rounded_minor("1.2345678", 2).is_err(),
        "beyond four extra places"
    );
    assert_eq!(rounded_minor("1.234567", 2), Ok(123));
    assert!(rounded_minor("1e3", 2).is_err());
    let mut body = document();
    body["products"][1]["total_ex_tax"] = json!("5.5556");
    assert_eq!(facts(&body).subtotal, Money::new(2356));
}

#[test]
fn a_document_of_another_shape_names_the_field() {
    let err =
        map_bigcommerce(ORDER_DOCUMENT_TOPIC, &json!({"order": {"id": 1}}), &usd()).unwrap_err();
    assert_eq!(err.topic, ORDER_DOCUMENT_TOPIC);
    assert_eq!(err.field, "order.currency_code");
    let mut body = document();
    body["products"][1]["total_ex_tax"] = json!(true);
    let err = map_bigcommerce(ORDER_DOCUMENT_TOPIC, &body, &usd()).unwrap_err();
    assert_eq!(err.field, "products[1].total_ex_tax");
    let mut body = document();
    body["order"]["date_created"] = json!("yesterday");
    let err = map_bigcommerce(ORDER_DOCUMENT_TOPIC, &body, &usd()).unwrap_err();
    assert_eq!(err.field, "order.date_created");
    let mut body = document();
    body.as_object_mut().unwrap().remove("products");
    let err = map_bigcommerce(ORDER_DOCUMENT_TOPIC, &body, &usd()).unwrap_err();
    assert_eq!(err.field, "products");
}

#[test]
fn an_order_in_another_currency_is_refused() {
    let mut body = document();
    body["order"]["default_currency_code"] = json!("EUR");
    let err = map_bigcommerce(ORDER_DOCUMENT_TOPIC, &body, &usd()).unwrap_err();
    assert!(err.to_string().contains("EUR"), "{err}");
    // The display currency alone does not matter: amounts are in the transactional one.
    let mut body = document();
    body["order"]["currency_code"] = json!("EUR");
    assert_eq!(facts(&body).total, Money::new(3140));
}

#[test]
fn gift_certificates_bought_are_flagged() {
    let mut body = document();
    body["products"][1]["type"] = json!("giftcertificate");
    assert!(facts(&body).lines[1].gift_card);
    assert!(!facts(&document()).lines[0].gift_card);
}
