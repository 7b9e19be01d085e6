//! Enums stored as TEXT. Both engines store them the same way, a new variant needs no migration,
//! and a row written by a newer version fails loudly on read instead of being misinterpreted.

/// A stored value that is not one of the enum's variants.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// Declares a fieldless enum stored as TEXT, with `as_str`, `FromStr`, `Display`, serde as the
/// same strings, and the `String` conversions diesel's `serialize_as`/`deserialize_as` use.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::db::types::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::db::types::UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String { value.as_str().to_owned() }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::db::types::UnknownValue;
            fn try_from(value: String) -> Result<Self, Self::Error> { value.parse() }
        }
    };
}

text_enum! {
    /// The shop platform a shop runs on.
    pub enum Platform {
        Shopify => "shopify",
        WooCommerce => "woocommerce",
        BigCommerce => "bigcommerce",
    }
}

text_enum! {
    /// Where a shop is in its life with the app.
    pub enum InstallState {
        Installed => "installed",
        /// `app/uninstalled` arrived; data is kept until `shop/redact` (48 h later) in case of a reinstall.
        Uninstalled => "uninstalled",
        /// `shop/redact` erased the shop's personal data.
        Redacted => "redacted",
    }
}

text_enum! {
    /// What happened to a stored webhook.
    pub enum InboxStatus {
        /// Stored and acknowledged, not yet applied (a worker will).
        Pending => "pending",
        Applied => "applied",
        /// Verified but not understood (unexpected shape) or failed to apply; kept for replay.
        Failed => "failed",
        /// Stored, but nothing to do (a topic we keep only for the record).
        Ignored => "ignored",
        /// A failed event the owner chose not to replay; retention then erases its body.
        Dismissed => "dismissed",
    }
}

text_enum! {
    /// Where a redemption is.
    pub enum RedemptionStatus {
        /// Points debited; the platform has not confirmed the code yet.
        Pending => "pending",
        /// The code exists in the shop and was handed to the shopper.
        Issued => "issued",
        /// The platform refused or stayed unreachable; the points were returned.
        Failed => "failed",
        /// The owner cancelled it; the points were returned.
        Cancelled => "cancelled",
        /// The owner asked to cancel it: the code is deactivated, and the points come back once
        /// the platform's usage count has settled and shows it unused.
        Cancelling => "cancelling",
    }
}

text_enum! {
    /// Where a fulfilment (a donation or custom reward the owner gives by hand) is.
    pub enum FulfilmentStatus {
        /// Redeemed, the points spent; the owner has not acted yet.
        Open => "open",
        /// The owner gave the reward.
        Done => "done",
        /// The owner took it back; the points were returned.
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// Where a friend's referral code (or an affiliate's code) is on the platform.
    pub enum ClaimStatus {
        /// Stored; the platform has not confirmed the code yet (asking again finishes it).
        Pending => "pending",
        /// The code exists on the platform.
        Issued => "issued",
    }
}

text_enum! {
    /// The life of a durable job.
    pub enum JobStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        /// Gave up after `max_attempts`; kept until the owner or operator retries or dismisses it.
        Failed => "failed",
        /// A failed job the owner or operator gave up on; pruned with the finished rows.
        Dismissed => "dismissed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().ok(), Some(*p));
            assert_eq!(Platform::try_from(String::from(*p)).ok(), Some(*p));
        }
        for s in InboxStatus::ALL {
            assert_eq!(s.to_string().parse::<InboxStatus>().ok(), Some(*s));
        }
        let err = "magento".parse::<Platform>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown Platform \"magento\" in the database")
        );
    }
}
