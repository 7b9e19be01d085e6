//! Enrolling a customer the app has not seen yet, from what their platform says about them:
//! the owner adjusted the points of a customer who has neither ordered nor been sent to us as
//! `customers/create` since the install.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::{Member, Shop};
use crate::db::schema::members;
use crate::db::types::Platform;
use crate::db::DbConnection;
use crate::domain::event::{CustomerRef, PlatformId};
use crate::platform::shopify::api::{ApiError, ShopifyApi};
use crate::platform::shopify::customer_query::{self, PlatformCustomer};
use crate::services::members::{self as member_lookup, GuestClaim};

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The platform does not know the customer (or the id is not one of its ids).
    #[error("no customer {0} in this shop's program or on its platform")]
    Unknown(String),
    /// The shop has no platform API to ask (not Shopify, or no access token).
    #[error("no customer {0} in this shop's program")]
    CannotAsk(String),
    #[error("could not ask the platform about customer {id}: {cause}")]
    Platform { id: String, cause: ApiError },
}

/// Asks the shop's platform about `customer_id`.
pub async fn look_up(
    api: &ShopifyApi,
    keys: &Keys,
    shop: &Shop,
    customer_id: &str,
) -> Result<PlatformCustomer, LookupError> {
    let Ok(id) = PlatformId::parse(customer_id) else {
        return Err(LookupError::Unknown(customer_id.to_owned()));
    };
    // The demo shop's store is a stand-in that knows no customers beyond the demo's own.
    let credentials = match shop.platform {
        Platform::Shopify if !shop.is_demo => crate::services::redeem::credentials(shop, keys),
        _ => None,
    }
    .ok_or_else(|| LookupError::CannotAsk(customer_id.to_owned()))?;
    customer_query::find(api, &credentials, &id)
        .await
        .map_err(|cause| LookupError::Platform {
            id: customer_id.to_owned(),
            cause,
        })?
        .ok_or_else(|| LookupError::Unknown(customer_id.to_owned()))
}

/// The member for a customer the platform described, created if needed (a guest with the same
/// e-mail stays a guest: the platform's word is not proof the account owns the address).
pub fn enrol(
    conn: &mut DbConnection,
    shop_id: &str,
    customer: &PlatformCustomer,
    now: NaiveDateTime,
) -> QueryResult<Member> {
    let reference = CustomerRef {
        id: Some(customer.id.clone()),
        email: customer.email.clone(),
    };
    let member = member_lookup::resolve(
        conn,
        shop_id,
        Some(&reference),
        None,
        GuestClaim::Refused,
        None,
        now,
    )?
    .map(|r| r.member)
    .ok_or(diesel::result::Error::NotFound)?;
    if member.first_name.is_none() && member.last_name.is_none() {
        diesel::update(
            members::table
                .filter(members::shop_id.eq(shop_id))
                .filter(members::id.eq(&member.id)),
        )
        .set((
            members::first_name.eq(&customer.first_name),
            members::last_name.eq(&customer.last_name),
            members::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Member::find(conn, shop_id, &member.id)
}
