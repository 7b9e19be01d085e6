//! Affiliates: a public multi-use code each, created on the platform when the owner adds the
//! affiliate, and the commission report over the orders that used it.
//!
//! The row is stored `pending` before the platform call; a refusal removes it again, an
//! unconfirmed answer leaves it pending and the owner's retry (same code) finishes it by
//! looking the code up first, as a friend's claim does.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::claim::{decimal, discount_value};
use super::ReferralError;
use crate::crypto::Keys;
use crate::db::models::{Affiliate, AffiliateOrder, Shop};
use crate::db::schema::affiliates;
use crate::db::types::ClaimStatus;
use crate::db::{new_id, now, write_transaction, Db};
use crate::domain::referrals::PublicDiscount;
use crate::platform::{Audience, DiscountRequest, PlatformApi};
use crate::services::redeem::{create_code, credentials, Created};

/// `POST /api/admin/v1/affiliates`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAffiliate {
    pub name: String,
    pub email: String,
    pub code: String,
    /// Percent of net revenue, up to two decimals (`12.5`).
    pub commission_pct: f64,
    pub customer_discount: PublicDiscount,
}

/// The checked affiliate: commission in basis points, code upper case.
fn checked(new: &NewAffiliate) -> Result<(String, String, String, i32), ReferralError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ReferralError::Invalid(
            "name must be 1–100 characters".into(),
        ));
    }
    let email = new.email.trim().to_lowercase();
    if crate::domain::referrals::normalized_email(&email).is_none()
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
        || email.len() > 254
    {
        return Err(ReferralError::InvalidEmail(new.email.clone()));
    }
    let code = new.code.trim().to_uppercase();
    if !(3..=32).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ReferralError::Invalid(
            "code must be 3–32 letters, digits, - or _".into(),
        ));
    }
    let bp = new.commission_pct * 100.0;
    if !new.commission_pct.is_finite()
        || !(0.0..=10_000.0).contains(&bp)
        || (bp - bp.round()).abs() > 1e-6
    {
        return Err(ReferralError::Invalid(
            "commission_pct must be 0–100 with at most two decimals".into(),
        ));
    }
    new.customer_discount.validate()?;
    // In 0..=10000 after the checks above.
    Ok((name.to_owned(), email, code, bp.round() as i32))
}

/// Adds an affiliate and creates their code on the platform.
pub async fn create_affiliate(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    new: &NewAffiliate,
) -> Result<Affiliate, ReferralError> {
    let (name, email, code, commission_bp) = checked(new)?;
    let discount = serde_json::to_string(&new.customer_discount)
        .map_err(|e| ReferralError::Invalid(e.to_string()))?;
    let Some(creds) = credentials(shop, keys) else {
        return Err(ReferralError::NotConnected);
    };
    let shop_id = shop.id.clone();
    let affiliate = db
        .run(move |c| {
            write_transaction(c, |c| {
                let at = now();
                let row = Affiliate {
                    id: new_id(),
                    shop_id: shop_id.clone(),
                    name,
                    email,
                    code: code.clone(),
                    commission_bp,
                    customer_discount: discount,
                    status: ClaimStatus::Pending,
                    platform_discount_id: None,
                    created_at: at,
                    updated_at: at,
                };
                if row.insert_once(c)? {
                    return Ok(row);
                }
                match Affiliate::find_by_code(c, &shop_id, &code)? {
                    // An earlier attempt whose code was never confirmed: finish that one.
                    Some(pending) if pending.status == ClaimStatus::Pending => Ok(pending),
                    _ => Err(ReferralError::CodeTaken(code.clone())),
                }
            })
        })
        .await?;
    let stored: PublicDiscount = serde_json::from_str(&affiliate.customer_discount)
        .map_err(|e| ReferralError::Invalid(e.to_string()))?;
    let req = DiscountRequest {
        code: affiliate.code.clone(),
        title: format!("Affiliate: {}", affiliate.name),
        audience: Audience::Anyone,
        usage_limit: None,
        once_per_customer: false,
        value: discount_value(shop, &stored.discount),
        min_subtotal: stored.min_order_minor.map(|m| decimal(shop, m)),
        starts_at: affiliate.created_at.and_utc(),
        ends_at: None,
    };
    let (shop_id, id) = (shop.id.clone(), affiliate.id.clone());
    match create_code(api, &creds, &req).await {
        Created::Yes(discount_id) => {
            db.run(move |c| {
                diesel::update(
                    affiliates::table
                        .filter(affiliates::shop_id.eq(&shop_id))
                        .filter(affiliates::id.eq(&id)),
                )
                .set((
                    affiliates::status.eq(ClaimStatus::Issued.as_str()),
                    affiliates::platform_discount_id.eq(discount_id),
                    affiliates::updated_at.eq(now()),
                ))
                .execute(c)?;
                Affiliate::find(c, &shop_id, &id).map_err(ReferralError::from)
            })
            .await
        }
        Created::No(e) => {
            db.run(move |c| {
                diesel::delete(
                    affiliates::table
                        .filter(affiliates::shop_id.eq(&shop_id))
                        .filter(affiliates::id.eq(&id))
                        .filter(affiliates::status.eq(ClaimStatus::Pending.as_str())),
                )
                .execute(c)
                .map_err(ReferralError::from)
            })
            .await?;
            Err(ReferralError::Platform(e))
        }
        Created::Unknown(e) => {
            tracing::warn!(error = %e, affiliate = %affiliate.id, "affiliate code unconfirmed; asking again finishes it");
            Err(ReferralError::Unconfirmed)
        }
    }
}

/// `GET …/affiliates/{id}/report`: orders placed `from..=to` (the shop's days) that used the
/// code; revenue is net of refunds, commission is on that net.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AffiliateReport {
    pub affiliate_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub orders: i64,
    pub revenue_minor: i64,
    pub refunded_minor: i64,
    pub commission_minor: i64,
}

pub fn report(
    conn: &mut crate::db::DbConnection,
    shop_id: &str,
    affiliate_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<AffiliateReport, ReferralError> {
    let affiliate = Affiliate::find(conn, shop_id, affiliate_id)
        .optional()?
        .ok_or_else(|| ReferralError::NotFound(affiliate_id.to_owned()))?;
    if from > to {
        return Err(ReferralError::Invalid("from must not be after to".into()));
    }
    let rows = AffiliateOrder::totals(conn, shop_id, affiliate_id, from, to)?;
    let orders = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let gross: i64 = rows.iter().map(|(revenue, _)| revenue).sum();
    let refunded: i64 = rows.iter().map(|(_, refunded)| refunded).sum();
    let revenue = gross - refunded;
    Ok(AffiliateReport {
        affiliate_id: affiliate.id,
        from,
        to,
        orders,
        revenue_minor: revenue,
        refunded_minor: refunded,
        commission_minor: commission(revenue, affiliate.commission_bp),
    })
}

/// Commission of `revenue` at `bp` basis points, rounded half away from zero to a minor unit.
fn commission(revenue: i64, bp: i32) -> i64 {
    let exact = i128::from(revenue) * i128::from(bp);
    let rounded = (exact + exact.signum() * 5_000) / 10_000;
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commission_rounds_to_the_nearest_minor_unit() {
        assert_eq!(commission(10_000, 1250), 1250);
        assert_eq!(commission(999, 1250), 125); // 124.875
        assert_eq!(commission(1, 5000), 1); // 0.5 rounds up
        assert_eq!(commission(0, 1000), 0);
        assert_eq!(commission(-1000, 1000), -100);
    }

    fn new(code: &str, pct: f64) -> NewAffiliate {
        NewAffiliate {
            name: "Anna".into(),
            email: "anna@example.com".into(),
            code: code.into(),
            commission_pct: pct,
            customer_discount: serde_json::from_value(
                serde_json::json!({"kind": "percent", "percent": 10}),
            )
            .unwrap(),
        }
    }

    #[test]
    fn bad_affiliates_are_refused_before_anything_is_stored() {
        assert_eq!(checked(&new("anna10", 12.5)).unwrap().2, "ANNA10");
        assert_eq!(checked(&new("ANNA10", 12.5)).unwrap().3, 1250);
        for (code, pct) in [
            ("A", 10.0),
            ("ANNA 10", 10.0),
            ("ANNA10", 100.5),
            ("ANNA10", -1.0),
            ("ANNA10", 12.345),
            ("ANNA10", f64::NAN),
        ] {
            assert!(checked(&new(code, pct)).is_err(), "{code} {pct}");
        }
    }
}
