//! Product → collection membership for collection multipliers. Order payloads name products but
//! not their collections, so the `sync_collections` job copies the members of every collection
//! the shop's rules mention from the Admin API (daily, and whenever the program changes);
//! awards then read them from the database, with no API call on the webhook path.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::product_collections;
use crate::db::{now, write_transaction, DbConnection};
use crate::domain::event::PlatformId;
use crate::platform::shopify::api::{legacy_id, ShopCredentials, ShopifyApi, TokenExpiry};
use crate::services::program::Program;
use crate::services::reconcile::ReconcileError;

const COLLECTION_PRODUCTS: &str = r#"
query BoomerangCollection($id: ID!, $cursor: String) {
  collection(id: $id) {
    products(first: 250, after: $cursor) {
      pageInfo { hasNextPage endCursor }
      nodes { id }
    }
  }
}"#;

/// Bounds one collection's sync (250 products a page).
const MAX_PAGES: usize = 400;

/// The collections each of `products` belongs to, as far as the last sync knows.
pub fn of_products(
    conn: &mut DbConnection,
    shop_id: &str,
    products: &[&str],
) -> QueryResult<HashMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = product_collections::table
        .filter(product_collections::shop_id.eq(shop_id))
        .filter(product_collections::product_id.eq_any(products))
        .select((
            product_collections::product_id,
            product_collections::collection_id,
        ))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (product, collection) in rows {
        map.entry(product).or_default().push(collection);
    }
    Ok(map)
}

/// Copies the products of every collection the rules name; forgets collections no longer named.
pub fn sync(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    api: &ShopifyApi,
    keys: &Keys,
    shop: &Shop,
) -> Result<usize, ReconcileError> {
    let wanted: Vec<PlatformId> = Program::of(shop)
        .earning
        .collection_multipliers
        .iter()
        .map(|m| m.collection_id.clone())
        .collect();
    let wanted_ids: Vec<&str> = wanted.iter().map(PlatformId::as_str).collect();
    // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
    write_transaction(conn, |c| {
        diesel::delete(
            product_collections::table
                .filter(product_collections::shop_id.eq(&shop.id))
                .filter(product_collections::collection_id.ne_all(&wanted_ids)),
        )
        .execute(c)
    })?;
    if wanted.is_empty() {
        return Ok(0);
    }
    let Some(sealed) = shop.access_token_enc.as_deref() else {
        return Err(ReconcileError::Skipped("shop has no access token".into()));
    };
    let credentials = ShopCredentials {
        domain: shop.domain.clone(),
        access_token: keys
            .unseal(sealed, SealedFor::new(&shop.id, SealedField::AccessToken))
            .map_err(|e| ReconcileError::Skipped(e.to_string()))?,
        api_base: shop.api_base.clone(),
        expiry: TokenExpiry::of(&shop.id, shop.access_token_expires_at),
    };
    let mut total = 0;
    for collection in wanted_ids {
        let gid = format!("gid://shopify/Collection/{collection}");
        let mut products: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let data = runtime.block_on(api.graphql(
                &credentials,
                COLLECTION_PRODUCTS,
                json!({ "id": gid, "cursor": cursor }),
            ))?;
            let page = data
                .pointer("/collection/products")
                .cloned()
                .unwrap_or(Value::Null);
            products.extend(
                page.pointer("/nodes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|n| legacy_id(n.get("id")?.as_str()?).map(str::to_owned)),
            );
            cursor = page
                .pointer("/pageInfo/endCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if !page
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || cursor.is_none()
            {
                break;
            }
        }
        total += products.len();
        // Replace the collection's members at once, so an award never sees half a sync.
        let at = now();
        write_transaction(conn, |c| {
            diesel::delete(
                product_collections::table
                    .filter(product_collections::shop_id.eq(&shop.id))
                    .filter(product_collections::collection_id.eq(collection)),
            )
            .execute(c)?;
            for chunk in products.chunks(500) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|p| {
                        (
                            product_collections::shop_id.eq(&shop.id),
                            product_collections::product_id.eq(p),
                            product_collections::collection_id.eq(collection),
                            product_collections::synced_at.eq(at),
                        )
                    })
                    .collect();
                crate::per_backend!(&mut *c, |b| diesel::insert_into(product_collections::table)
                    .values(&rows)
                    .on_conflict_do_nothing()
                    .execute(b))?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    tracing::info!(shop = %shop.domain, products = total, "synced collection members");
    Ok(total)
}
