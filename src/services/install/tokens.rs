//! Expiring offline tokens at rest: both tokens sealed, stored and replaced together, and the
//! refresh the Admin API client asks for when a token is about to run out.
//!
//! A refresh token is single-use, so two refreshes of one shop must not race: in this process
//! a per-shop lock queues them (the second finds the token already renewed), and across
//! processes the new pair is only written over the refresh token that was used; the loser of
//! that race reads the winner's token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::platform::shopify::api::{ApiError, ShopifyApi, TokenRefresher, REFRESH_MARGIN};
use crate::platform::shopify::oauth::{OAuthClient, TokenGrant};

/// Seals and stores a grant's tokens and their expiries in one UPDATE.
pub fn store(
    c: &mut DbConnection,
    keys: &Keys,
    shop_id: &str,
    grant: &TokenGrant,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(shops::table.find(shop_id))
        .set(columns(keys, shop_id, grant, now))
        .execute(c)
}

type TokenColumns = (
    diesel::dsl::Eq<shops::access_token_enc, Option<String>>,
    diesel::dsl::Eq<shops::refresh_token_enc, Option<String>>,
    diesel::dsl::Eq<shops::access_token_expires_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<shops::refresh_token_expires_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<shops::updated_at, NaiveDateTime>,
);

fn columns(keys: &Keys, shop_id: &str, grant: &TokenGrant, now: NaiveDateTime) -> TokenColumns {
    let seal = |value: &SecretString, field| {
        keys.seal(value.expose_secret(), SealedFor::new(shop_id, field))
    };
    let after =
        |secs: Option<i64>| secs.map(|s| now + Duration::seconds(s.clamp(0, 10 * 365 * 86_400)));
    (
        shops::access_token_enc.eq(Some(seal(&grant.access_token, SealedField::AccessToken))),
        shops::refresh_token_enc.eq(grant
            .refresh_token
            .as_ref()
            .map(|t| seal(t, SealedField::RefreshToken))),
        shops::access_token_expires_at.eq(after(grant.expires_in)),
        shops::refresh_token_expires_at.eq(grant
            .refresh_token
            .as_ref()
            .and(after(grant.refresh_token_expires_in))),
        shops::updated_at.eq(now),
    )
}

/// Renews tokens over the database; the Admin API client calls it (see `ShopifyApi::token`).
#[derive(Debug)]
pub struct DbTokenRefresher {
    db: Db,
    keys: Keys,
    oauth: OAuthClient,
    /// `SHOPIFY_API_BASE`, for shops without their own `api_base`.
    api_base: String,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl DbTokenRefresher {
    pub fn new(db: Db, keys: Keys, oauth: OAuthClient, api_base: &str) -> Self {
        Self {
            db,
            keys,
            oauth,
            api_base: api_base.to_owned(),
            locks: Mutex::default(),
        }
    }

    fn lock_for(&self, shop_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(shop_id.to_owned()).or_default().clone()
    }

    async fn load(&self, shop_id: &str) -> Result<(Shop, Option<String>), ApiError> {
        let id = shop_id.to_owned();
        self.db
            .run(move |c| {
                let shop = Shop::find(c, &id)?;
                let refresh: Option<String> = shops::table
                    .find(&id)
                    .select(shops::refresh_token_enc)
                    .first(c)?;
                Ok::<_, DbError>((shop, refresh))
            })
            .await
            .map_err(|e| ApiError::Network(format!("cannot read the shop's token: {e}")))
    }

    fn open(
        &self,
        shop: &Shop,
        sealed: Option<&str>,
        field: SealedField,
    ) -> Result<SecretString, ApiError> {
        sealed
            .and_then(|s| self.keys.unseal(s, SealedFor::new(&shop.id, field)).ok())
            .ok_or(ApiError::Unauthorized(401))
    }

    async fn renew(
        &self,
        shop_id: &str,
        rejected: Option<&SecretString>,
    ) -> Result<SecretString, ApiError> {
        let lock = self.lock_for(shop_id);
        let _turn = lock.lock().await;
        let (shop, refresh_enc) = self.load(shop_id).await?;
        let current = now();
        // Renewed while this call waited for its turn (or never expiring): use it, unless it
        // is the very token Shopify just refused.
        if shop
            .access_token_expires_at
            .is_none_or(|at| at - REFRESH_MARGIN > current)
        {
            let stored = self.open(
                &shop,
                shop.access_token_enc.as_deref(),
                SealedField::AccessToken,
            )?;
            let refused = rejected.is_some_and(|r| r.expose_secret() == stored.expose_secret());
            if !refused {
                return Ok(stored);
            }
        }
        let refresh = self.open(&shop, refresh_enc.as_deref(), SealedField::RefreshToken)?;
        let base = crate::platform::shopify::api_base(
            &self.api_base,
            &shop.domain,
            shop.api_base.as_deref(),
        );
        let grant = match self.oauth.refresh(&base, &refresh).await {
            Ok(grant) => grant,
            Err(e) => {
                tracing::warn!(shop = %shop.domain, error = %e, "could not refresh the Shopify access token");
                // Another process may have used the refresh token first: take its token.
                let (again, _) = self.load(shop_id).await?;
                if again
                    .access_token_expires_at
                    .is_some_and(|at| at - REFRESH_MARGIN > current)
                {
                    let theirs = self.open(
                        &again,
                        again.access_token_enc.as_deref(),
                        SealedField::AccessToken,
                    )?;
                    if rejected.is_none_or(|r| r.expose_secret() != theirs.expose_secret()) {
                        return Ok(theirs);
                    }
                }
                return Err(e);
            }
        };
        let (keys, id, used, kept) = (
            self.keys.clone(),
            shop.id.clone(),
            refresh_enc,
            grant.clone(),
        );
        let written = self
            .db
            .run(move |c| {
                write_transaction(c, |c| {
                    diesel::update(
                        shops::table
                            .find(&id)
                            .filter(shops::refresh_token_enc.eq(used)),
                    )
                    .set(columns(&keys, &id, &kept, now()))
                    .execute(c)
                })
                .map_err(DbError::from)
            })
            .await
            .map_err(|e| ApiError::Network(format!("cannot store the renewed token: {e}")))?;
        if written == 0 {
            tracing::info!(shop = %shop.domain, "another process renewed the token first");
        }
        Ok(grant.access_token)
    }
}

impl TokenRefresher for DbTokenRefresher {
    fn refresh<'a>(
        &'a self,
        shop_id: &'a str,
        rejected: Option<&'a SecretString>,
    ) -> Pin<Box<dyn Future<Output = Result<SecretString, ApiError>> + Send + 'a>> {
        Box::pin(self.renew(shop_id, rejected))
    }
}

/// The Admin API client that renews expiring tokens through the database.
pub fn with_refresh(
    api: ShopifyApi,
    db: &Db,
    keys: &Keys,
    oauth: &OAuthClient,
    api_base: &str,
) -> ShopifyApi {
    api.with_token_refresher(Arc::new(DbTokenRefresher::new(
        db.clone(),
        keys.clone(),
        oauth.clone(),
        api_base,
    )))
}
