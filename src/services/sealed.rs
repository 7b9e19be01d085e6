//! Re-sealing stored shop secrets at start-up: values sealed under a previous `APP_SECRET`, or
//! in the legacy format bound to no shop, are sealed again under the current key, bound to their
//! shop and field. After one start with the new key, the previous one can be dropped.

use diesel::prelude::*;
use secrecy::ExposeSecret;

use crate::crypto::{Keys, Opened, SealedField, SealedFor};
use crate::db::schema::shops;
use crate::db::DbConnection;

/// What a re-sealing pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    pub resealed: usize,
    /// Values no known key opens (left as they are; the shop must enter them again).
    pub unreadable: usize,
}

type SealedRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Re-seals every stored value that is not yet sealed under the current key for its shop and
/// field. With no previous key only legacy (`v1.`) values can be stale, so only those rows are
/// read; the caller runs this inside a write transaction.
pub fn reseal_all(conn: &mut DbConnection, keys: &Keys) -> QueryResult<ResealReport> {
    let columns = (
        shops::id,
        shops::access_token_enc,
        shops::webhook_secret_enc,
        shops::consumer_key_enc,
        shops::consumer_secret_enc,
        shops::dkim_private_key_enc,
        shops::refresh_token_enc,
    );
    let rows: Vec<SealedRow> = if keys.has_previous() {
        shops::table.select(columns).load(conn)?
    } else {
        let legacy = "v1.%";
        shops::table
            .filter(
                shops::access_token_enc
                    .like(legacy)
                    .or(shops::webhook_secret_enc.like(legacy))
                    .or(shops::consumer_key_enc.like(legacy))
                    .or(shops::consumer_secret_enc.like(legacy))
                    .or(shops::dkim_private_key_enc.like(legacy))
                    .or(shops::refresh_token_enc.like(legacy)),
            )
            .select(columns)
            .load(conn)?
    };
    let mut report = ResealReport::default();
    for (shop_id, access_token, webhook_secret, consumer_key, consumer_secret, dkim_key, refresh) in
        rows
    {
        let values = [
            access_token,
            webhook_secret,
            consumer_key,
            consumer_secret,
            dkim_key,
            refresh,
        ];
        for (field, value) in SealedField::ALL.into_iter().zip(values) {
            let Some(sealed) = value else { continue };
            let to = SealedFor::new(&shop_id, field);
            match keys.open_for_reseal(&sealed, to) {
                Ok(Opened::Current) => {}
                Ok(Opened::Stale(plain)) => {
                    set(conn, &shop_id, field, &keys.seal(plain.expose_secret(), to))?;
                    report.resealed += 1;
                }
                Err(_) => {
                    tracing::warn!(shop_id = %shop_id, %field, "a stored secret opens with no known APP_SECRET; the shop must enter it again");
                    report.unreadable += 1;
                }
            }
        }
    }
    reseal_subscriptions(conn, keys, &mut report)?;
    Ok(report)
}

fn set(
    conn: &mut DbConnection,
    shop_id: &str,
    field: SealedField,
    sealed: &str,
) -> QueryResult<usize> {
    let row = shops::table.find(shop_id);
    match field {
        SealedField::AccessToken => diesel::update(row)
            .set(shops::access_token_enc.eq(sealed))
            .execute(conn),
        SealedField::WebhookSecret => diesel::update(row)
            .set(shops::webhook_secret_enc.eq(sealed))
            .execute(conn),
        SealedField::ConsumerKey => diesel::update(row)
            .set(shops::consumer_key_enc.eq(sealed))
            .execute(conn),
        SealedField::ConsumerSecret => diesel::update(row)
            .set(shops::consumer_secret_enc.eq(sealed))
            .execute(conn),
        SealedField::DkimKey => diesel::update(row)
            .set(shops::dkim_private_key_enc.eq(sealed))
            .execute(conn),
        SealedField::RefreshToken => diesel::update(row)
            .set(shops::refresh_token_enc.eq(sealed))
            .execute(conn),
        // Not a column of `shops`: see `reseal_subscriptions`.
        SealedField::WebhookSubscriptionSecret => Ok(0),
    }
}

/// Re-seals the signing secrets of outgoing webhook subscriptions sealed under a previous key
/// (they never had the legacy format, so there is nothing to do without a previous key).
fn reseal_subscriptions(
    conn: &mut DbConnection,
    keys: &Keys,
    report: &mut ResealReport,
) -> QueryResult<()> {
    use crate::db::schema::webhook_subscriptions as subs;
    if !keys.has_previous() {
        return Ok(());
    }
    let rows: Vec<(String, String, String)> = subs::table
        .select((subs::id, subs::shop_id, subs::secret_enc))
        .load(conn)?;
    for (id, shop_id, sealed) in rows {
        let to = SealedFor::new(&shop_id, SealedField::WebhookSubscriptionSecret);
        match keys.open_for_reseal(&sealed, to) {
            Ok(Opened::Current) => {}
            Ok(Opened::Stale(plain)) => {
                diesel::update(subs::table.find(&id))
                    .set(subs::secret_enc.eq(keys.seal(plain.expose_secret(), to)))
                    .execute(conn)?;
                report.resealed += 1;
            }
            Err(_) => {
                tracing::warn!(shop_id = %shop_id, subscription = %id, "a webhook subscription's secret opens with no known APP_SECRET; the owner must subscribe again");
                report.unreadable += 1;
            }
        }
    }
    Ok(())
}
