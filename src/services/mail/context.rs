//! What a message shows, filled when it is sent: the occasion's facts captured when it was
//! queued, and the member's standing now (balance, pending points, tier, referral link), all
//! from stored facts. Plus the shop's branding and the message's own links.

use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::{Email, Member, Shop};
use crate::db::DbConnection;
use crate::domain::mail::Kind;
use crate::domain::tiers::Basis;
use crate::domain::widget::{fill, Locale};
use crate::mail::render::{Brand, MailContext, PendingLine};
use crate::services::program::Program;

use super::links::{open_token, unsubscribe_token};

/// The shop as its mail presents it.
pub(super) fn brand(shop: &Shop, program: &Program, public_url: &str) -> Brand {
    let settings = &program.emails;
    let from_name = settings
        .from
        .as_deref()
        .and_then(|f| f.parse::<lettre::message::Mailbox>().ok())
        .and_then(|m| m.name);
    let shop_name = from_name.unwrap_or_else(|| {
        shop.domain
            .trim_end_matches(".myshopify.com")
            .replace('-', " ")
    });
    Brand {
        shop_name,
        shop_url: shop_url(shop, public_url),
        logo_url: settings.logo_url.clone(),
        accent_color: settings
            .accent_color
            .clone()
            .unwrap_or_else(|| program.widget.accent_color.clone()),
        postal_address: settings.postal_address.clone(),
    }
}

/// The storefront (the demo shop's is a page of this app).
pub(super) fn shop_url(shop: &Shop, public_url: &str) -> String {
    if shop.is_demo {
        format!("{}/demo", public_url.trim_end_matches('/'))
    } else {
        format!("https://{}", shop.domain)
    }
}

/// The context of `row` for `member`, now.
#[expect(
    clippy::too_many_arguments,
    reason = "the facts of one message come from all of these"
)]
pub(super) fn build(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    row: &Email,
    kind: Kind,
    keys: &Keys,
    public_url: &str,
) -> QueryResult<MailContext> {
    // Fields the occasion did not capture take their defaults.
    let mut ctx: MailContext = serde_json::from_str(&row.context).unwrap_or_default();
    let base = public_url.trim_end_matches('/');
    ctx.first_name = member.first_name.clone();
    ctx.balance = member.points_balance;
    ctx.pending_points = member.pending_points;
    ctx.pending = pending(conn, member)?;
    let locale = Locale::from_tag(&row.locale).unwrap_or(Locale::En);
    if program.tiers.is_some() {
        let view = crate::services::tiers::member_view(
            conn,
            shop,
            program,
            member,
            locale,
            crate::db::now(),
        )?;
        ctx.tier = ctx.tier.take().or(view.tier_name.clone());
        ctx.next_tier = view.next_tier_name.clone();
        if let Some(next) = &view.next_tier_name {
            let texts = program.widget.texts_for(locale);
            let (key, amount) = match view.tier_basis {
                Basis::PointsEarned => ("next_tier", view.to_next_tier.to_string()),
                Basis::AmountSpent => (
                    "next_tier_amount",
                    crate::domain::money::Money::new(view.to_next_tier).to_decimal_string(
                        crate::domain::money::Currency::parse(&shop.currency)
                            .map_or(2, |c| c.exponent),
                    ) + " "
                        + &shop.currency,
                ),
                Basis::Orders => ("next_tier_orders", view.to_next_tier.to_string()),
            };
            if let Some(text) = texts.get(key) {
                ctx.tier_progress = Some(fill(
                    text,
                    &[("n", &amount), ("amount", &amount), ("tier", next)],
                ));
            }
        }
    }
    if program.active_referrals().is_some() {
        ctx.referral_url = member
            .referral_code
            .as_deref()
            .map(|code| crate::services::referrals::referral_url(base, code));
    }
    // An occasion may name a page of this app by its path (the NPS survey's `/nps/{token}`).
    ctx.action_url = match ctx.action_url.take() {
        Some(path) if path.starts_with('/') => Some(format!("{base}{path}")),
        Some(url) => Some(url),
        None => Some(shop_url(shop, base)),
    };
    if kind.is_marketing() {
        ctx.unsubscribe_url = Some(format!(
            "{base}/email/unsubscribe?t={}",
            unsubscribe_token(keys, &shop.id, &member.id)
        ));
        if program.emails.open_tracking {
            ctx.open_pixel_url = Some(format!(
                "{base}/email/open?t={}",
                open_token(keys, &shop.id, &row.id)
            ));
        }
    }
    Ok(ctx)
}

/// Pending points by the day they become spendable, soonest first (at most five days; lines
/// held until an event rather than a date are not listed).
fn pending(conn: &mut DbConnection, member: &Member) -> QueryResult<Vec<PendingLine>> {
    Ok(
        crate::services::ledger::pending_by_day(conn, &member.shop_id, &member.id)?
            .into_iter()
            .filter_map(|d| {
                Some(PendingLine {
                    points: d.points,
                    date: d.day?,
                })
            })
            .take(5)
            .collect(),
    )
}
