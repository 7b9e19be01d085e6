//! Fraud signals of a referral and its risk score. Each signal compares what the referrer and
//! the friend's order hold (already normalised, see `normalize.rs`); a signal is a reason for
//! the owner to look, never a verdict: a flagged referral waits for a person.

use serde::Serialize;

/// One reason to doubt a referral (the contract's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    SameCustomer,
    SameEmailNormalized,
    SameAddress,
    SamePhone,
    SameIp,
    SameCard,
    ExistingCustomer,
    BelowMinOrder,
    OverMonthlyCap,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SameCustomer => "same_customer",
            Self::SameEmailNormalized => "same_email_normalized",
            Self::SameAddress => "same_address",
            Self::SamePhone => "same_phone",
            Self::SameIp => "same_ip",
            Self::SameCard => "same_card",
            Self::ExistingCustomer => "existing_customer",
            Self::BelowMinOrder => "below_min_order",
            Self::OverMonthlyCap => "over_monthly_cap",
        }
    }

    /// How much the signal alone says, out of 100. Self-referral by the same account, mailbox or
    /// card is near certain; a shared address or phone is a household as often as a fraud; a
    /// shared IP is an office, a café or a mobile carrier's NAT as often as not.
    fn weight(self) -> u32 {
        match self {
            Self::SameCustomer => 100,
            Self::SameEmailNormalized => 90,
            Self::SameCard => 80,
            Self::ExistingCustomer => 60,
            Self::SameAddress | Self::SamePhone => 45,
            Self::SameIp => 25,
            Self::BelowMinOrder | Self::OverMonthlyCap => 20,
        }
    }
}

/// What is known of one side of a referral, normalised; empty lists and `None` compare with
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub addresses: Vec<String>,
    pub phones: Vec<String>,
    pub ips: Vec<String>,
    pub cards: Vec<String>,
}

/// The referral's circumstances beside the two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The friend ordered in this shop before the referred order.
    pub friend_ordered_before: bool,
    /// The referred order's subtotal and the program's minimum (minor units).
    pub order_subtotal_minor: i64,
    pub min_order_minor: i64,
    /// Referrals of this referrer already rewarded this calendar month, and the cap.
    pub rewarded_this_month: u32,
    pub max_rewards_per_month: Option<u32>,
}

fn shares(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Every signal the referral raises, in a stable order.
pub fn signals(referrer: &Party, friend: &Party, ctx: &Context) -> Vec<Signal> {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let checks = [
        (
            Signal::SameCustomer,
            same(&referrer.customer_id, &friend.customer_id),
        ),
        (
            Signal::SameEmailNormalized,
            same(&referrer.email, &friend.email),
        ),
        (
            Signal::SameAddress,
            shares(&referrer.addresses, &friend.addresses),
        ),
        (Signal::SamePhone, shares(&referrer.phones, &friend.phones)),
        (Signal::SameIp, shares(&referrer.ips, &friend.ips)),
        (Signal::SameCard, shares(&referrer.cards, &friend.cards)),
        (Signal::ExistingCustomer, ctx.friend_ordered_before),
        (
            Signal::BelowMinOrder,
            ctx.order_subtotal_minor < ctx.min_order_minor,
        ),
        (
            Signal::OverMonthlyCap,
            ctx.max_rewards_per_month
                .is_some_and(|cap| ctx.rewarded_this_month >= cap),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(signal, raised)| raised.then_some(signal))
        .collect()
}

/// 0–100: the chance-like sum of the signals' weights, as independent evidence
/// (1 − Π(1 − w)), so two weak signals say more than one but never reach certainty alone.
pub fn risk_score(signals: &[Signal]) -> u8 {
    let mut doubt_free = 1.0_f64;
    for s in signals {
        doubt_free *= 1.0 - f64::from(s.weight()) / 100.0;
    }
    let score = ((1.0 - doubt_free) * 100.0).round().clamp(0.0, 100.0);
    // In 0..=100 after the clamp; the conversion cannot truncate.
    score as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(customer: &str, email: &str) -> Party {
        Party {
            customer_id: Some(customer.into()),
            email: Some(email.into()),
            ..Party::default()
        }
    }

    fn ctx() -> Context {
        Context {
            friend_ordered_before: false,
            order_subtotal_minor: 5000,
            min_order_minor: 3000,
            rewarded_this_month: 0,
            max_rewards_per_month: Some(10),
        }
    }

    #[test]
    fn an_honest_referral_raises_nothing() {
        let s = signals(&party("1", "ada@x.com"), &party("2", "bob@y.com"), &ctx());
        assert!(s.is_empty());
        assert_eq!(risk_score(&s), 0);
        // Unknown on both sides is not "the same".
        assert!(signals(&Party::default(), &Party::default(), &ctx()).is_empty());
    }

    #[test]
    fn each_signal_is_raised_by_its_own_evidence() {
        let ada = Party {
            addresses: vec!["12 main st|sw1a1aa|gb".into()],
            phones: vec!["2079460958".into()],
            ips: vec!["203.0.113.7".into()],
            cards: vec!["424242:4242".into()],
            ..party("1", "ada@gmail.com")
        };
        let cases = [
            (party("1", "x@y.com"), Signal::SameCustomer),
            (party("2", "ada@gmail.com"), Signal::SameEmailNormalized),
            (
                Party {
                    addresses: ada.addresses.clone(),
                    ..party("2", "b@y.com")
                },
                Signal::SameAddress,
            ),
            (
                Party {
                    phones: ada.phones.clone(),
                    ..party("2", "b@y.com")
                },
                Signal::SamePhone,
            ),
            (
                Party {
                    ips: ada.ips.clone(),
                    ..party("2", "b@y.com")
                },
                Signal::SameIp,
            ),
            (
                Party {
                    cards: ada.cards.clone(),
                    ..party("2", "b@y.com")
                },
                Signal::SameCard,
            ),
        ];
        for (friend, expected) in cases {
            assert_eq!(signals(&ada, &friend, &ctx()), [expected]);
        }
        let bob = party("2", "bob@y.com");
        let before = Context {
            friend_ordered_before: true,
            ..ctx()
        };
        assert_eq!(signals(&ada, &bob, &before), [Signal::ExistingCustomer]);
        let small = Context {
            order_subtotal_minor: 2999,
            ..ctx()
        };
        assert_eq!(signals(&ada, &bob, &small), [Signal::BelowMinOrder]);
        let capped = Context {
            rewarded_this_month: 10,
            ..ctx()
        };
        assert_eq!(signals(&ada, &bob, &capped), [Signal::OverMonthlyCap]);
        let uncapped = Context {
            rewarded_this_month: 1000,
            max_rewards_per_month: None,
            ..ctx()
        };
        assert!(signals(&ada, &bob, &uncapped).is_empty());
    }

    #[test]
    fn the_score_grows_with_evidence_and_stays_within_0_to_100() {
        assert_eq!(risk_score(&[Signal::SameCustomer]), 100);
        assert_eq!(risk_score(&[Signal::SameIp]), 25);
        let two = risk_score(&[Signal::SameIp, Signal::SameAddress]);
        assert!(two > 45 && two < 100, "{two}");
        let all = [
            Signal::SameCustomer,
            Signal::SameEmailNormalized,
            Signal::SameAddress,
            Signal::SamePhone,
            Signal::SameIp,
            Signal::SameCard,
            Signal::ExistingCustomer,
            Signal::BelowMinOrder,
            Signal::OverMonthlyCap,
        ];
        assert_eq!(risk_score(&all), 100);
        assert_eq!(
            serde_json::to_value(Signal::SameEmailNormalized).unwrap(),
            "same_email_normalized"
        );
        for s in all {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
