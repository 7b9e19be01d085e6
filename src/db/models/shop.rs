//! A shop that installed the app: the tenant every other row belongs to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::shops;
use crate::db::types::{InstallState, Platform};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = shops)]
pub struct Shop {
    pub id: String,
    #[diesel(deserialize_as = String)]
    pub platform: Platform,
    pub domain: String,
    /// The platform access token, encrypted with the instance key (see `crypto`).
    pub access_token_enc: Option<String>,
    /// WooCommerce/BigCommerce webhook secret, encrypted like the access token.
    pub webhook_secret_enc: Option<String>,
    /// SHA-256 of the shop's admin API key (non-Shopify shops); the key itself is never stored.
    pub api_key_hash: Option<String>,
    /// Overrides the platform API base URL (tests point it at a local fake).
    pub api_base: Option<String>,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    #[diesel(deserialize_as = String)]
    pub install_state: InstallState,
    /// The loyalty program settings as JSON.
    pub program: String,
    pub is_demo: bool,
    pub installed_at: NaiveDateTime,
    pub uninstalled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Orders updated up to this instant have been pulled from the platform (reconciliation).
    pub reconciled_until: Option<NaiveDateTime>,
    /// Orders dated before `installed_at` earn points too (the owner asked for a backfill with
    /// points, or the demo shop); otherwise they are history only.
    pub award_history: bool,
    /// WooCommerce REST consumer key and secret, sealed like the access token.
    pub consumer_key_enc: Option<String>,
    pub consumer_secret_enc: Option<String>,
    /// DKIM signing of the shop's mail: the domain (`d=`) and selector (`s=`), and the RSA
    /// private key (PKCS#8 PEM) sealed like the access token. All set, or none.
    pub dkim_domain: Option<String>,
    pub dkim_selector: Option<String>,
    pub dkim_private_key_enc: Option<String>,
    /// When the (expiring, offline) access token stops working; `None` for a token that does
    /// not expire. Refreshed shortly before (see `services::install::tokens`).
    pub access_token_expires_at: Option<NaiveDateTime>,
    /// When the refresh token runs out (90 days after it was issued): the shop must open the
    /// app again (token exchange) or reinstall.
    pub refresh_token_expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = shops)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewShop {
    pub id: String,
    #[diesel(serialize_as = String)]
    pub platform: Platform,
    pub domain: String,
    pub access_token_enc: Option<String>,
    pub webhook_secret_enc: Option<String>,
    pub api_key_hash: Option<String>,
    pub api_base: Option<String>,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    #[diesel(serialize_as = String)]
    pub install_state: InstallState,
    pub program: String,
    pub is_demo: bool,
    pub installed_at: NaiveDateTime,
    pub uninstalled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewShop {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Shop> {
        diesel::insert_into(shops::table)
            .values(self.clone())
            .execute(conn)?;
        Shop::find(conn, &self.id)
    }
}

impl Shop {
    pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Shop> {
        crate::per_backend!(conn, |c| shops::table
            .find(id)
            .select(Shop::as_select())
            .first(c))
    }

    pub fn find_by_domain(
        conn: &mut DbConnection,
        platform: Platform,
        domain: &str,
    ) -> QueryResult<Option<Shop>> {
        // On the native connection: hot (every webhook batch, every widget read), and diesel's
        // multi-backend wrapper rebuilds a query's SQL text on every run.
        crate::per_backend!(conn, |c| shops::table
            .filter(shops::platform.eq(platform.as_str()))
            .filter(shops::domain.eq(domain))
            .select(Shop::as_select())
            .first(c)
            .optional())
    }

    /// A shop by domain on whichever platform (widget requests name only the domain).
    pub fn find_by_any_domain(conn: &mut DbConnection, domain: &str) -> QueryResult<Option<Shop>> {
        crate::per_backend!(conn, |c| shops::table
            .filter(shops::domain.eq(domain))
            .order(shops::created_at.asc())
            .select(Shop::as_select())
            .first(c)
            .optional())
    }

    pub fn find_by_api_key_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Shop>> {
        shops::table
            .filter(shops::api_key_hash.eq(hash))
            .select(Shop::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_demo(conn: &mut DbConnection) -> QueryResult<Option<Shop>> {
        shops::table
            .filter(shops::is_demo.eq(true))
            .order(shops::created_at.asc())
            .select(Shop::as_select())
            .first(conn)
            .optional()
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        shops::table.count().get_result(conn)
    }

    /// Shopify shops other than the demo shop: the ones the public demo credentials must not
    /// serve.
    pub fn count_real_shopify(conn: &mut DbConnection) -> QueryResult<i64> {
        shops::table
            .filter(shops::platform.eq(Platform::Shopify.as_str()))
            .filter(shops::is_demo.eq(false))
            .count()
            .get_result(conn)
    }

    /// Every shop with `domain`, on any platform, oldest first.
    pub fn list_by_domain(conn: &mut DbConnection, domain: &str) -> QueryResult<Vec<Shop>> {
        shops::table
            .filter(shops::domain.eq(domain))
            .order(shops::created_at.asc())
            .select(Shop::as_select())
            .load(conn)
    }
}
