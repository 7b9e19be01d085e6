//! The store's webhooks to the app: one per scope the app listens to, each delivered to
//! `{PUBLIC_URL}/webhooks/bigcommerce/store-{hash}` with the shop's secret in a custom header
//! (BigCommerce sends a hook's `headers` back on every callback).
//!
//! Registering is idempotent: the store's hooks are listed first, the app's own (any hook whose
//! destination is this store's path under `/webhooks/bigcommerce/`, whatever the app's address
//! was then) are updated in place, their duplicates deleted, and only missing scopes created,
//! since BigCommerce keeps at most ten hooks per scope and would deliver each order once per
//! duplicate.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::api::BcApi;
use crate::platform::{ApiError, ShopCredentials};

/// The scopes the app listens to: orders (points), refunds (points back) and the uninstall.
pub const SCOPES: [&str; 5] = [
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/refund/created",
    "store/app/uninstalled",
];

/// The header that carries the shop's webhook secret on every delivery.
pub const SECRET_HEADER: &str = "X-Boomerang-Webhook-Secret";

/// How many hooks one listing page asks for (BigCommerce's largest page).
const PAGE_LIMIT: usize = 250;

/// A bound on pages, in case an answer repeats itself: 20 pages are 5,000 hooks.
const MAX_PAGES: u32 = 20;

/// Where the store's deliveries go.
pub fn destination(public_url: &str, domain: &str) -> String {
    format!(
        "{}/webhooks/bigcommerce/{domain}",
        public_url.trim_end_matches('/')
    )
}

/// One hook as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub id: i64,
    pub scope: String,
    pub destination: String,
}

/// One change to the store's hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create { scope: &'static str },
    Update { id: i64, scope: &'static str },
    Delete { id: i64 },
}

/// What registering changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registered {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// The changes that leave exactly one of the app's hooks per scope (pure, so it is tested
/// without a store). A hook is the app's when its destination ends with this store's path.
pub fn plan(existing: &[Hook], domain: &str) -> Vec<Change> {
    let suffix = format!("/webhooks/bigcommerce/{domain}");
    let mut changes = Vec::new();
    for scope in SCOPES {
        let mut ours = existing
            .iter()
            .filter(|h| h.scope == scope && h.destination.ends_with(&suffix));
        match ours.next() {
            Some(first) => changes.push(Change::Update {
                id: first.id,
                scope,
            }),
            None => changes.push(Change::Create { scope }),
        }
        changes.extend(ours.map(|dup| Change::Delete { id: dup.id }));
    }
    changes
}

/// The body of a hook for `scope` (create and update take the same).
fn body(scope: &str, destination: &str, secret: &SecretString) -> Value {
    json!({
        "scope": scope,
        "destination": destination,
        "is_active": true,
        "headers": { SECRET_HEADER: secret.expose_secret() },
    })
}

/// Lists the store's hooks, page by page.
pub async fn list(api: &BcApi<'_>, shop: &ShopCredentials) -> Result<Vec<Hook>, ApiError> {
    let mut hooks = Vec::new();
    for page in 1..=MAX_PAGES {
        let answer = api
            .call(
                shop,
                Method::GET,
                &format!("v3/hooks?page={page}&limit={PAGE_LIMIT}"),
                None,
            )
            .await?;
        let data = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::InvalidResponse("the hooks listing has no data".into()))?;
        hooks.extend(data.iter().filter_map(|h| {
            Some(Hook {
                id: h.get("id")?.as_i64()?,
                scope: h.get("scope")?.as_str()?.to_owned(),
                destination: h.get("destination")?.as_str()?.to_owned(),
            })
        }));
        let total_pages = answer
            .pointer("/meta/pagination/total_pages")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        if data.len() < PAGE_LIMIT || u64::from(page) >= total_pages {
            break;
        }
    }
    Ok(hooks)
}

/// Makes the store deliver every scope in [`SCOPES`] to `destination` with `secret`, once.
pub async fn register(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    destination: &str,
    secret: &SecretString,
) -> Result<Registered, ApiError> {
    let existing = list(api, shop).await?;
    let mut done = Registered::default();
    for change in plan(&existing, &shop.domain) {
        match change {
            Change::Create { scope } => {
                let hook = body(scope, destination, secret);
                api.call(shop, Method::POST, "v3/hooks", Some(&hook))
                    .await?;
                done.created += 1;
            }
            Change::Update { id, scope } => {
                let hook = body(scope, destination, secret);
                api.call(shop, Method::PUT, &format!("v3/hooks/{id}"), Some(&hook))
                    .await?;
                done.updated += 1;
            }
            Change::Delete { id } => {
                match api.get_optional(shop, &format!("v3/hooks/{id}")).await? {
                    // Deleted meanwhile (by the owner, or a concurrent registration).
                    None => {}
                    Some(_) => {
                        api.call(shop, Method::DELETE, &format!("v3/hooks/{id}"), None)
                            .await?;
                        done.deleted += 1;
                    }
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: i64, scope: &str, destination: &str) -> Hook {
        Hook {
            id,
            scope: scope.into(),
            destination: destination.into(),
        }
    }

    #[test]
    fn a_new_store_gets_one_hook_per_scope() {
        let changes = plan(&[], "store-abc");
        assert_eq!(changes.len(), SCOPES.len());
        assert!(changes.iter().all(|c| matches!(c, Change::Create { .. })));
    }

    #[test]
    fn the_apps_hooks_are_updated_and_their_duplicates_deleted() {
        let ours = "https://old.example/webhooks/bigcommerce/store-abc";
        let existing = [
            hook(1, "store/order/created", ours),
            hook(2, "store/order/created", ours),
            hook(3, "store/order/updated", "https://other-app.example/hooks"),
            hook(
                4,
                "store/app/uninstalled",
                "https://x.example/webhooks/bigcommerce/store-abcd",
            ),
        ];
        let changes = plan(&existing, "store-abc");
        assert!(changes.contains(&Change::Update {
            id: 1,
            scope: "store/order/created"
        }));
        assert!(changes.contains(&Change::Delete { id: 2 }));
        // Another app's hook and another store's are left alone.
        assert!(changes.contains(&Change::Create {
            scope: "store/order/updated"
        }));
        assert!(changes.contains(&Change::Create {
            scope: "store/app/uninstalled"
        }));
        assert!(!changes
            .iter()
            .any(|c| matches!(c, Change::Delete { id: 3 | 4 })));
    }

    #[test]
    fn deliveries_go_to_the_stores_own_path() {
        assert_eq!(
            destination("https://rewards.example/", "store-abc"),
            "https://rewards.example/webhooks/bigcommerce/store-abc"
        );
        let body = body(
            "store/order/created",
            "https://r.example/x",
            &"s".to_owned().into(),
        );
        assert_eq!(body["headers"][SECRET_HEADER], "s");
        assert_eq!(body["is_active"], true);
    }
}
