use serde_json::{json, Value};

use super::*;

const FIXTURE: &str = include_str!("../../../../tests/fixtures/woocommerce/order_created.json");

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn map(body: &Value) -> Event {
    map_woocommerce("order.updated", body, &usd())
        .unwrap()
        .expect("an order event")
}

fn facts(body: &Value) -> OrderFacts {
    match map(body) {
        Event::Order(facts) | Event::OrderCancelled(facts) => facts,
        other => panic!("not an order: {other:?}"),
    }
}

#[test]
fn the_documented_order_is_a_paid_guest_order() {
    let f = facts(&fixture());
    assert_eq!(f.order_id.as_str(), "727");
    assert_eq!(f.name, "#727");
    assert_eq!(f.customer, None, "customer_id 0 is a guest");
    assert_eq!(f.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(f.financial_status, FinancialStatus::Paid);
    assert_eq!(f.subtotal, Money::new(1800), "lines after discounts");
    assert_eq!(f.total, Money::new(2935));
    assert_eq!(f.total_tax, Money::new(135));
    assert_eq!(f.shipping, Money::new(1000));
    assert_eq!(f.lines.len(), 2);
    assert_eq!(f.lines[0].unit_price, Money::new(300));
    assert_eq!(f.lines[1].variant_id.as_ref().unwrap().as_str(), "23");
    assert_eq!(
        f.created_at.to_rfc3339(),
        "2017-03-22T19:28:02+00:00",
        "the GMT date"
    );
    assert_eq!(f.updated_at.to_rfc3339(), "2017-03-22T19:28:08+00:00");
    assert!(f.refunds.is_empty());
    assert_eq!(f.provenance.phones, ["(555) 555-5555"]);
}

#[test]
fn a_registered_customer_is_named_by_id() {
    let mut body = fixture();
    body["customer_id"] = json!(31);
    let f = facts(&body);
    assert_eq!(f.customer.unwrap().id.unwrap().as_str(), "31");
}

#[test]
fn payment_depends_on_status_and_date_paid() {
    for (status, paid_at, expected) in [
        (
            "processing",
            Some("2017-03-22T19:28:08"),
            FinancialStatus::Paid,
        ),
        (
            "completed",
            Some("2017-03-22T19:28:08"),
            FinancialStatus::Paid,
        ),
        ("processing", None, FinancialStatus::Pending),
        (
            "on-hold",
            Some("2017-03-22T19:28:08"),
            FinancialStatus::Pending,
        ),
        ("pending", None, FinancialStatus::Pending),
        ("failed", None, FinancialStatus::Voided),
    ] {
        let mut body = fixture();
        body["status"] = json!(status);
        body["date_paid_gmt"] = json!(paid_at);
        assert_eq!(
            facts(&body).financial_status,
            expected,
            "{status} {paid_at:?}"
        );
    }
}

#[test]
fn refunds_are_positive_amounts_keyed_by_their_ids() {
    let mut body = fixture();
    body["refunds"] = json!([{"id": 731, "reason": "", "total": "-6.00"},
                             {"id": 732, "reason": "", "total": "-1.50"}]);
    body["date_modified_gmt"] = json!("2017-03-25T10:00:00");
    let f = facts(&body);
    assert_eq!(f.financial_status, FinancialStatus::PartiallyRefunded);
    let amounts: Vec<(&str, i64)> = f
        .refunds
        .iter()
        .map(|r| (r.refund_id.as_str(), r.amount.minor))
        .collect();
    assert_eq!(amounts, [("731", 600), ("732", 150)]);
    assert!(f.refunds.iter().all(|r| r.order_id.as_str() == "727"));
    assert_eq!(
        f.refunds[0].created_at.unwrap().to_rfc3339(),
        "2017-03-25T10:00:00+00:00"
    );
}

#[test]
fn a_refunded_status_without_refunds_reads_as_a_refund_of_the_rest() {
    let mut body = fixture();
    body["status"] = json!("refunded");
    body["refunds"] = json!([{"id": 731, "total": "-10.00"}]);
    let f = facts(&body);
    assert_eq!(f.financial_status, FinancialStatus::Refunded);
    let rest = f.refunds.iter().find(|r| r.refund_id.as_str() == "727");
    assert_eq!(rest.unwrap().amount, Money::new(1935));
    body["refunds"] = json!([{"id": 731, "total": "-29.35"}]);
    assert_eq!(facts(&body).refunds.len(), 1, "already refunded in full");
}

#[test]
fn a_cancelled_order_is_a_cancellation() {
    let mut body = fixture();
    body["status"] = json!("cancelled");
    match map(&body) {
        Event::OrderCancelled(f) => assert!(f.cancelled_at.is_some()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_topics_are_not_used() {
    assert_eq!(
        map_woocommerce("order.deleted", &fixture(), &usd()),
        Ok(None)
    );
    assert_eq!(
        map_woocommerce("coupon.created", &json!({}), &usd()),
        Ok(None)
    );
}

#[test]
fn a_body_of_another_shape_names_the_field() {
    let err = map_woocommerce("order.created", &json!({"id": 1}), &usd()).unwrap_err();
    assert_eq!(err.topic, "order.created");
    assert_eq!(err.field, "currency");
    let mut body = fixture();
    body["line_items"][1]["total"] = json!(true);
    let err = map_woocommerce("order.created", &body, &usd()).unwrap_err();
    assert_eq!(err.field, "line_items[1].total");
    let mut body = fixture();
    body["date_created_gmt"] = json!("yesterday");
    assert_eq!(
        map_woocommerce("order.created", &body, &usd())
            .unwrap_err()
            .field,
        "date_created_gmt"
    );
    assert!(map_woocommerce("order.created", &json!([1]), &usd()).is_err());
}

#[test]
fn an_order_in_another_currency_is_refused() {
    let mut body = fixture();
    body["currency"] = json!("EUR");
    let err = map_woocommerce("order.created", &body, &usd()).unwrap_err();
    assert_eq!(err.field, "currency");
}
