//! A friend claims the referral offer.
//!
//! One write transaction finds the referrer by code, refuses a self-referral or a friend who
//! has ordered before, and stores a `pending` claim with a fresh code (or finds the friend's
//! earlier claim). Then the platform is asked for the code. A refusal removes the claim again
//! (nothing stays stored for a failed claim); an answer that may hide a created code leaves it
//! pending, and the friend asking again finishes it (the code is looked up before it is made
//! again), so a code is never made twice and never handed out before the platform has it.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::rngs::OsRng;

use super::codes::member_by_code;
use super::ReferralError;
use crate::crypto::Keys;
use crate::db::in_list::in_list;
use crate::db::models::{Member, ReferralClaim, Shop};
use crate::db::schema::{orders, referral_claims};
use crate::db::types::ClaimStatus;
use crate::db::{new_id, now, write_transaction, Db, DbConnection};
use crate::domain::money::{Currency, Money};
use crate::domain::referrals::{normalized_email, parse_code, Discount, FriendReward};
use crate::domain::rewards::discount_code;
use crate::platform::{Audience, DiscountRequest, DiscountValue, PlatformApi};
use crate::services::program::Program;
use crate::services::redeem::{create_code, credentials, Created};

/// The friend's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Claims `code`'s offer for `email`. `customer_id`: the logged-in shopper, if any.
pub async fn claim(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    code: &str,
    email: &str,
    customer_id: Option<&str>,
) -> Result<Claimed, ReferralError> {
    let program = Program::of(shop);
    let offer = program
        .active_referrals()
        .ok_or(ReferralError::NotEnabled)?
        .friend_reward
        .clone();
    let referral_code =
        parse_code(code).ok_or_else(|| ReferralError::UnknownCode(code.trim().to_owned()))?;
    let email = email.trim().to_owned();
    let friend_key =
        friend_mailbox(&email).ok_or_else(|| ReferralError::InvalidEmail(email.clone()))?;
    let (shop_row, customer) = (shop.clone(), customer_id.map(str::to_owned));
    let prefix = program.code_prefix.clone().unwrap_or_else(|| "RWD".into());
    let claim = db
        .run(move |c| {
            write_transaction(c, |c| {
                let referrer = referrer_in_shop(c, &shop_row, &referral_code)?;
                check_friend(
                    c,
                    &shop_row,
                    &referrer,
                    &email,
                    &friend_key,
                    customer.as_deref(),
                )?;
                if let Some(existing) = ReferralClaim::find_by_friend(c, &shop_row.id, &friend_key)?
                {
                    return Ok(existing);
                }
                let at = now();
                let claim = ReferralClaim {
                    id: new_id(),
                    shop_id: shop_row.id.clone(),
                    referrer_member_id: referrer.id.clone(),
                    friend_email: email.clone(),
                    friend_key: friend_key.clone(),
                    code: discount_code(&prefix, &mut OsRng),
                    status: ClaimStatus::Pending,
                    platform_discount_id: None,
                    expires_at: at + Duration::days(i64::from(offer.expires_days)),
                    created_at: at,
                    updated_at: at,
                };
                if claim.insert_once(c)? {
                    return Ok(claim);
                }
                // Another request for this friend stored theirs first.
                ReferralClaim::find_by_friend(c, &shop_row.id, &friend_key)?
                    .ok_or(ReferralError::Database(diesel::result::Error::NotFound))
            })
        })
        .await?;
    if claim.status == ClaimStatus::Issued {
        return Ok(claimed(&claim));
    }
    let Some(creds) = credentials(shop, keys) else {
        forget(db, &claim).await?;
        return Err(ReferralError::NotConnected);
    };
    let req = friend_code_request(shop, &offer, &claim);
    match create_code(api, &creds, &req).await {
        Created::Yes(discount_id) => {
            let (shop_row, row) = (shop.clone(), claim.clone());
            let friend_offer = offer_words(&shop_row, &offer);
            db.run(move |c| {
                write_transaction(c, |c| {
                    let moved = diesel::update(
                        referral_claims::table
                            .filter(referral_claims::shop_id.eq(&row.shop_id))
                            .filter(referral_claims::id.eq(&row.id))
                            .filter(referral_claims::status.eq(ClaimStatus::Pending.as_str())),
                    )
                    .set((
                        referral_claims::status.eq(ClaimStatus::Issued.as_str()),
                        referral_claims::platform_discount_id.eq(discount_id),
                        referral_claims::updated_at.eq(now()),
                    ))
                    .execute(c)?;
                    // The friend asked for the code: it also goes to their inbox.
                    if moved == 1 {
                        crate::services::mail::queue_for_friend(
                            c,
                            &shop_row,
                            &Program::of(&shop_row),
                            &row.friend_email,
                            crate::domain::mail::Kind::ReferralInvite,
                            &format!("claim:{}", row.id),
                            serde_json::json!({
                                "reward_code": row.code,
                                "reward_expires_on": row.expires_at.date(),
                                "friend_offer": friend_offer,
                            }),
                            now(),
                        )?;
                    }
                    Ok::<_, ReferralError>(())
                })
            })
            .await?;
            Ok(claimed(&claim))
        }
        Created::No(e) => {
            forget(db, &claim).await?;
            Err(ReferralError::Platform(e))
        }
        Created::Unknown(e) => {
            tracing::warn!(error = %e, claim = %claim.id, "friend code unconfirmed; the next claim finishes it");
            Err(ReferralError::Unconfirmed)
        }
    }
}

/// The mailbox an e-mail reaches, for something shaped like an address (one `@`, no spaces or
/// control characters, a dotted domain, at most 254 characters).
fn friend_mailbox(email: &str) -> Option<String> {
    let plausible = email.len() <= 254
        && email.matches('@').count() == 1
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
    plausible.then(|| normalized_email(email)).flatten()
}

fn referrer_in_shop(
    conn: &mut DbConnection,
    shop: &Shop,
    code: &str,
) -> Result<Member, ReferralError> {
    // A code of another shop is as unknown here as one that does not exist.
    match member_by_code(conn, code)? {
        Some((owner, member)) if owner.id == shop.id => Ok(member),
        _ => Err(ReferralError::UnknownCode(code.to_owned())),
    }
}

/// Refuses the referrer claiming their own offer (same account or same mailbox) and a friend
/// who has already ordered in the shop.
fn check_friend(
    conn: &mut DbConnection,
    shop: &Shop,
    referrer: &Member,
    email: &str,
    friend_key: &str,
    customer_id: Option<&str>,
) -> Result<(), ReferralError> {
    let same_account =
        customer_id.is_some() && customer_id == referrer.platform_customer_id.as_deref();
    let same_mailbox = referrer
        .email
        .as_deref()
        .and_then(normalized_email)
        .as_deref()
        == Some(friend_key);
    if same_account || same_mailbox {
        return Err(ReferralError::SelfReferral);
    }
    // Members keep e-mails trimmed and lower-cased: the address as typed and its mailbox
    // find an earlier customer by index. (A `+tag` spelling of their address that is neither is
    // caught on the order instead, by the `existing_customer` signal.)
    use crate::db::schema::members;
    let spellings = [email.trim().to_lowercase(), friend_key.to_owned()];
    let known: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(in_list(members::email, &spellings))
        .select(members::id)
        .load(conn)?;
    if known.is_empty() {
        return Ok(());
    }
    let ordered: i64 = orders::table
        .filter(orders::shop_id.eq(&shop.id))
        .filter(in_list(orders::member_id, &known))
        .count()
        .get_result(conn)?;
    if ordered > 0 {
        return Err(ReferralError::ExistingCustomer(friend_key.to_owned()));
    }
    Ok(())
}

fn claimed(claim: &ReferralClaim) -> Claimed {
    Claimed {
        code: claim.code.clone(),
        expires_at: claim.expires_at.and_utc(),
    }
}

/// Removes a claim whose code the platform did not create: the friend may ask again.
async fn forget(db: &Db, claim: &ReferralClaim) -> Result<(), ReferralError> {
    let (shop_id, id) = (claim.shop_id.clone(), claim.id.clone());
    db.run(move |c| {
        diesel::delete(
            referral_claims::table
                .filter(referral_claims::shop_id.eq(&shop_id))
                .filter(referral_claims::id.eq(&id))
                .filter(referral_claims::status.eq(ClaimStatus::Pending.as_str())),
        )
        .execute(c)
        .map(|_| ())
        .map_err(ReferralError::from)
    })
    .await
}

/// The platform request for a friend's code: anyone may use it, once.
fn friend_code_request(
    shop: &Shop,
    offer: &FriendReward,
    claim: &ReferralClaim,
) -> DiscountRequest {
    DiscountRequest {
        code: claim.code.clone(),
        title: format!("Referral: a friend's welcome ({})", claim.code),
        audience: Audience::Anyone,
        usage_limit: Some(1),
        once_per_customer: true,
        value: discount_value(shop, &offer.discount),
        min_subtotal: offer.min_order_minor.map(|m| decimal(shop, m)),
        starts_at: claim.created_at.and_utc(),
        ends_at: Some(claim.expires_at.and_utc()),
    }
}

/// The friend's offer in words for their e-mail ("10.00 USD off"), in English: the friend is
/// not a customer yet, so their language is not known.
fn offer_words(shop: &Shop, offer: &FriendReward) -> String {
    match &offer.discount {
        Discount::FixedAmount { amount_minor } => {
            format!("{} {} off", decimal(shop, *amount_minor), shop.currency)
        }
        Discount::Percent { percent } => format!("{percent}% off"),
        Discount::FreeShipping => "free shipping".to_owned(),
    }
}

/// A referral or affiliate discount as the platform takes it.
pub(crate) fn discount_value(shop: &Shop, discount: &Discount) -> DiscountValue {
    match discount {
        Discount::FixedAmount { amount_minor } => {
            DiscountValue::Amount(decimal(shop, *amount_minor))
        }
        Discount::Percent { percent } => DiscountValue::Percent(*percent),
        Discount::FreeShipping => DiscountValue::FreeShipping { max_shipping: None },
    }
}

/// Minor units as the decimal string platforms take, in the shop's currency.
pub(crate) fn decimal(shop: &Shop, minor: i64) -> String {
    let exponent = Currency::parse(&shop.currency).map_or(2, |c| c.exponent);
    Money::new(minor).to_decimal_string(exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_address_shaped_emails_are_mailboxes() {
        assert_eq!(
            friend_mailbox("Ada.L+x@GMail.com").as_deref(),
            Some("adal@gmail.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@@example.com",
            "ada@example.com\r\nBcc: x@y.z",
            "<ada@example.com>",
        ] {
            assert_eq!(friend_mailbox(bad), None, "{bad:?}");
        }
        assert_eq!(
            friend_mailbox(&format!("{}@example.com", "a".repeat(250))),
            None
        );
    }
}
