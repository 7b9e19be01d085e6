//! The owner's e-mail log: `GET /api/admin/v1/emails?customer_id=&kind=&status=`.

use chrono::SecondsFormat;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::Email;
use crate::db::schema::{emails, members};
use crate::db::DbConnection;

#[derive(Debug, Clone, Serialize)]
pub struct EmailView {
    pub id: String,
    pub customer_id: Option<String>,
    pub kind: String,
    pub subject: Option<String>,
    pub status: String,
    pub variant: Option<String>,
    pub locale: String,
    pub error: Option<String>,
    pub send_after: String,
    pub sent_at: Option<String>,
    pub opened_at: Option<String>,
    pub created_at: String,
    /// Set once retention erased the text (after `WEBHOOK_RETENTION_DAYS`); the row stays.
    pub body_erased_at: Option<String>,
}

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl EmailView {
    fn new(e: Email, customer_id: Option<String>) -> Self {
        Self {
            id: e.id,
            customer_id,
            kind: e.kind,
            subject: e.subject,
            status: e.status,
            variant: e.variant,
            locale: e.locale,
            error: e.error,
            send_after: rfc3339(e.send_after),
            sent_at: e.sent_at.map(rfc3339),
            opened_at: e.opened_at.map(rfc3339),
            created_at: rfc3339(e.created_at),
            body_erased_at: e.body_erased_at.map(rfc3339),
        }
    }
}

/// Checks the log's filters as the owner gave them: a kind and a status the app knows.
pub fn check_filters(kind: Option<&str>, status: Option<&str>) -> Result<(), String> {
    if let Some(kind) = kind {
        if crate::domain::mail::Kind::parse(kind).is_none() {
            return Err(format!("unknown kind {kind:?}"));
        }
    }
    if let Some(s) = status {
        if !super::status::ALL.contains(&s) {
            return Err(format!(
                "status must be one of {}",
                super::status::ALL.join(", ")
            ));
        }
    }
    Ok(())
}

/// The shop's messages, newest first, filtered by customer (platform id), kind and status.
pub fn list(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: Option<&str>,
    kind: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<EmailView>> {
    let mut query = emails::table
        .inner_join(members::table.on(members::id.eq(emails::member_id)))
        .filter(emails::shop_id.eq(shop_id))
        .order((emails::created_at.desc(), emails::id.desc()))
        .limit(limit)
        .select((Email::as_select(), members::platform_customer_id))
        .into_boxed();
    if let Some(customer) = customer_id {
        query = query.filter(members::platform_customer_id.eq(customer));
    }
    if let Some(kind) = kind {
        query = query.filter(emails::kind.eq(kind));
    }
    if let Some(status) = status {
        query = query.filter(emails::status.eq(status));
    }
    let rows: Vec<(Email, Option<String>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(e, c)| EmailView::new(e, c))
        .collect())
}
