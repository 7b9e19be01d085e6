//! Which referral (or affiliate) code a paid order belongs to, strongest evidence first: the
//! friend's code used at checkout, then the cart attribute the widget keeps, then `ref=` in the
//! landing page the order's session started on. The code used at checkout wins because it
//! survives a device switch; the other two only say where the session came from.

use super::codes::parse_code;

/// The cart attribute the widget script sets from `?ref=` (kept in `note_attributes`).
pub const CART_ATTRIBUTE: &str = "boomerang_ref";

/// How the order named the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    DiscountCode,
    CartAttribute,
    LandingSite,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DiscountCode => "discount_code",
            Self::CartAttribute => "cart_attribute",
            Self::LandingSite => "landing_site",
        }
    }
}

/// An order's referral: the referral code it names, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub code: String,
    pub via: Via,
}

/// The `ref` parameter of a landing page (`/products/x?ref=ABCD2345&utm_source=…`, or a full
/// URL), if it is shaped like one of our codes.
pub fn landing_site_ref(landing_site: &str) -> Option<String> {
    let base = url::Url::parse("https://shop.invalid/").ok()?;
    let page = base.join(landing_site.trim()).ok()?;
    let value = page
        .query_pairs()
        .find(|(k, _)| k == "ref")
        .map(|(_, v)| v.into_owned())?;
    parse_code(&value)
}

/// Attributes an order. `friend_code_owner` maps a discount code used at checkout to the
/// referral code it was issued for (a friend's single-use code, or an affiliate's code), if any.
pub fn attribute(
    discount_codes: &[String],
    friend_code_owner: impl Fn(&str) -> Option<String>,
    note_attributes: &[(String, String)],
    landing_site: Option<&str>,
) -> Option<Attribution> {
    if let Some(code) = discount_codes.iter().find_map(|c| friend_code_owner(c)) {
        return Some(Attribution {
            code,
            via: Via::DiscountCode,
        });
    }
    let from_cart = note_attributes
        .iter()
        .filter(|(k, _)| k == CART_ATTRIBUTE)
        .find_map(|(_, v)| parse_code(v));
    if let Some(code) = from_cart {
        return Some(Attribution {
            code,
            via: Via::CartAttribute,
        });
    }
    landing_site
        .and_then(landing_site_ref)
        .map(|code| Attribution {
            code,
            via: Via::LandingSite,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(code: &str) -> Option<String> {
        (code == "FRIEND-7KQ2M-X9PTA").then(|| "ADA23456".to_owned())
    }

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn the_code_used_at_checkout_beats_the_cart_and_the_landing_page() {
        let a = attribute(
            &["SUMMER10".into(), "FRIEND-7KQ2M-X9PTA".into()],
            owner,
            &attrs(&[(CART_ATTRIBUTE, "BEN23456")]),
            Some("/?ref=CAT23456"),
        );
        assert_eq!(
            a,
            Some(Attribution {
                code: "ADA23456".into(),
                via: Via::DiscountCode
            })
        );
        let b = attribute(
            &[],
            owner,
            &attrs(&[("gift", "yes"), (CART_ATTRIBUTE, "ben23456")]),
            Some("/?ref=CAT23456"),
        );
        assert_eq!(
            b,
            Some(Attribution {
                code: "BEN23456".into(),
                via: Via::CartAttribute
            })
        );
        let c = attribute(
            &["SUMMER10".into()],
            owner,
            &[],
            Some("/products/mug?utm_source=x&ref=cat23456"),
        );
        assert_eq!(
            c,
            Some(Attribution {
                code: "CAT23456".into(),
                via: Via::LandingSite
            })
        );
    }

    #[test]
    fn nothing_shaped_like_a_code_attributes_nothing() {
        assert_eq!(attribute(&[], owner, &[], None), None);
        assert_eq!(
            attribute(&[], owner, &attrs(&[(CART_ATTRIBUTE, "")]), Some("/?ref=")),
            None
        );
        assert_eq!(
            landing_site_ref("https://shop.example/?ref=%3Cscript%3E"),
            None
        );
        assert_eq!(landing_site_ref("/?reference=ADA23456"), None);
        assert_eq!(
            landing_site_ref("https://shop.example/p?ref=ADA23456").as_deref(),
            Some("ADA23456")
        );
    }
}
