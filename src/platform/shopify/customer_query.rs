//! Looking up one customer on Shopify by id: the owner adjusted the points of someone the app
//! has not seen yet (no order, no `customers/create` since install).

use serde_json::{json, Value};

use crate::domain::event::{normalise_email, PlatformId};
use crate::platform::shopify::api::{ApiError, ShopCredentials, ShopifyApi};

const QUERY: &str = "query Customer($id: ID!) { customer(id: $id) { id firstName lastName defaultEmailAddress { emailAddress } } }";

/// What Shopify knows of a customer that the program needs to enrol them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCustomer {
    pub id: PlatformId,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// The customer, or `None` when the shop has no customer with that id.
pub async fn find(
    api: &ShopifyApi,
    shop: &ShopCredentials,
    id: &PlatformId,
) -> Result<Option<PlatformCustomer>, ApiError> {
    let gid = format!("gid://shopify/Customer/{id}");
    let data = api.graphql(shop, QUERY, json!({ "id": gid })).await?;
    Ok(read(&data, id))
}

fn read(data: &Value, id: &PlatformId) -> Option<PlatformCustomer> {
    let customer = data.get("customer").filter(|c| !c.is_null())?;
    let text = |key: &str| {
        customer
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(PlatformCustomer {
        id: id.clone(),
        email: customer
            .pointer("/defaultEmailAddress/emailAddress")
            .and_then(Value::as_str)
            .and_then(normalise_email),
        first_name: text("firstName"),
        last_name: text("lastName"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_customer_is_read_and_a_missing_one_is_none() {
        let id = PlatformId::from_u64(42);
        let data = json!({"customer": {"id": "gid://shopify/Customer/42", "firstName": "Ann",
            "lastName": " ", "defaultEmailAddress": {"emailAddress": " Ann@Example.com"}}});
        assert_eq!(
            read(&data, &id),
            Some(PlatformCustomer {
                id: id.clone(),
                email: Some("ann@example.com".into()),
                first_name: Some("Ann".into()),
                last_name: None,
            })
        );
        assert_eq!(read(&json!({"customer": null}), &id), None);
        let no_email = json!({"customer": {"id": "x", "defaultEmailAddress": null}});
        assert_eq!(read(&no_email, &id).unwrap().email, None);
    }
}
