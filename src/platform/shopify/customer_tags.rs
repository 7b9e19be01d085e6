//! Customer tags through the Admin GraphQL API (`tagsAdd` / `tagsRemove`, scope
//! `write_customers`): how a member's tier reaches themes, checkout and Shopify's own customer
//! segments. Both mutations are idempotent (adding a tag the customer has, or removing one they
//! lack, changes nothing), so a job may repeat them after a lost answer.

use serde_json::{json, Value};

use super::api::{ApiError, ShopCredentials, ShopifyApi};
use super::discounts::user_errors;

const TAGS_ADD: &str = r#"mutation BoomerangTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"#;

const TAGS_REMOVE: &str = r#"mutation BoomerangTagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"#;

/// The GraphQL id of a customer from its numeric id.
pub fn customer_gid(customer_id: &str) -> String {
    format!("gid://shopify/Customer/{customer_id}")
}

impl ShopifyApi {
    /// Puts `tags` on the customer. Throttling and outages are retried inside the call; a
    /// refusal (`userErrors`) is [`ApiError::Rejected`].
    pub async fn add_customer_tags(
        &self,
        shop: &ShopCredentials,
        customer_id: &str,
        tags: &[String],
    ) -> Result<(), ApiError> {
        self.change_tags(shop, TAGS_ADD, "tagsAdd", customer_id, tags)
            .await
    }

    /// Takes `tags` off the customer (tags they do not have are ignored by Shopify).
    pub async fn remove_customer_tags(
        &self,
        shop: &ShopCredentials,
        customer_id: &str,
        tags: &[String],
    ) -> Result<(), ApiError> {
        self.change_tags(shop, TAGS_REMOVE, "tagsRemove", customer_id, tags)
            .await
    }

    async fn change_tags(
        &self,
        shop: &ShopCredentials,
        mutation: &str,
        field: &str,
        customer_id: &str,
        tags: &[String],
    ) -> Result<(), ApiError> {
        let variables = json!({ "id": customer_gid(customer_id), "tags": tags });
        let data = self.graphql(shop, mutation, variables).await?;
        outcome(data.get(field), field)
    }
}

/// A mutation's payload: refused with `userErrors`, or done (`node` present).
fn outcome(payload: Option<&Value>, field: &str) -> Result<(), ApiError> {
    if let Some(messages) = user_errors(payload) {
        return Err(ApiError::Rejected(messages));
    }
    match payload.and_then(|p| p.get("node")) {
        Some(node) if !node.is_null() => Ok(()),
        _ => Err(ApiError::InvalidResponse(format!(
            "{field} named no customer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_errors_are_refusals_and_a_missing_node_is_not_success() {
        let done = json!({"node": {"id": "gid://shopify/Customer/7001"}, "userErrors": []});
        assert_eq!(outcome(Some(&done), "tagsAdd"), Ok(()));
        let refused = json!({"node": null, "userErrors": [{"field": ["id"], "message": "Customer does not exist"}]});
        assert_eq!(
            outcome(Some(&refused), "tagsAdd"),
            Err(ApiError::Rejected("Customer does not exist".into()))
        );
        assert!(matches!(
            outcome(Some(&json!({"node": null, "userErrors": []})), "tagsRemove"),
            Err(ApiError::InvalidResponse(_))
        ));
        assert!(matches!(
            outcome(None, "tagsRemove"),
            Err(ApiError::InvalidResponse(_))
        ));
        assert_eq!(customer_gid("7001"), "gid://shopify/Customer/7001");
    }
}
