//! DKIM signing of the shop's mail: `PUT /api/admin/v1/emails/dkim`
//! `{"domain","selector","private_key"?}` stores the owner's RSA key (PKCS#1 or PKCS#8 PEM);
//! without `private_key` it keeps the key the selector has, or generates an RSA-2048 one.
//! `GET` shows the DNS record to publish (never the private key); `DELETE` stops signing (`204`).

use actix_web::{web, HttpResponse};

use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::mail::dkim::DkimKey;
use crate::services::mail::dkim::{self, DkimError, DkimRequest, DkimSetting, DkimView};
use crate::services::program::Program;
use crate::state::AppState;

impl From<DkimError> for AppError {
    fn from(e: DkimError) -> Self {
        match e {
            DkimError::Invalid(_) => AppError::validation(e.to_string()),
            DkimError::NotConfigured => AppError::not_found(e.to_string()),
            DkimError::Unreadable => AppError::new(ErrorCode::Unavailable, e.to_string()),
            DkimError::Encoding(_) | DkimError::Db(_) => AppError::internal(e),
        }
    }
}

pub async fn show(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let setting = dkim::load(&state.keys, &session.shop)?.ok_or(DkimError::NotConfigured)?;
    Ok(HttpResponse::Ok().json(view(&state, &session, &setting)?))
}

pub async fn replace(
    session: ShopSession,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let request = parse(&body)?;
    let checked = request.check().map_err(DkimError::from)?;
    // Without a key, the same selector keeps the key it has (a PUT that only changes the domain
    // leaves the published record valid); a new selector gets a new key, which is how DKIM keys
    // rotate: the old record stays up for mail still in flight.
    let kept = match dkim::load(&state.keys, &session.shop) {
        Ok(Some(before)) if before.selector == checked.selector => Some(before.key),
        _ => None,
    };
    let key = match checked.key.or(kept) {
        Some(key) => key,
        // Seconds of CPU in a debug build, a fraction in release: off the async workers.
        None => web::block(DkimKey::generate)
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?,
    };
    let setting = DkimSetting {
        domain: checked.domain,
        selector: checked.selector,
        key,
    };
    let answer = view(&state, &session, &setting)?;
    let keys = state.keys.clone();
    let shop_id = session.shop.id.clone();
    state
        .db
        .run(move |c| dkim::store(c, &keys, &shop_id, &setting).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

pub async fn remove(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let removed = state
        .db
        .run(move |c| dkim::remove(c, &shop_id).map_err(AppError::from))
        .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(DkimError::NotConfigured.into())
    }
}

/// Not JSON: 400. JSON of the wrong shape (a missing, unknown or mistyped field): 422 naming
/// the field, like every other problem with the request.
fn parse(body: &[u8]) -> Result<DkimRequest, AppError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            AppError::new(ErrorCode::InvalidJson, "the body is not valid JSON")
        } else if let Some(name) = missing_or_unknown(&inner.to_string()) {
            AppError::validation(name)
        } else {
            AppError::validation(format!("{path} must be a string"))
        }
    })
}

/// serde's "missing field `x`" / "unknown field `x`" as a sentence naming the field.
fn missing_or_unknown(serde_message: &str) -> Option<String> {
    for (prefix, says) in [
        ("missing field `", "is missing"),
        (
            "unknown field `",
            "is not known here (domain, selector, private_key)",
        ),
    ] {
        if let Some(name) = serde_message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .filter(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Some(format!("{name} {says}"));
        }
    }
    None
}

/// The owner's view, judged against the sender the shop's mail actually goes out with.
fn view(
    state: &AppState,
    session: &ShopSession,
    setting: &DkimSetting,
) -> Result<DkimView, AppError> {
    let program = Program::of(&session.shop);
    let from = program
        .emails
        .from
        .as_deref()
        .and_then(|f| f.parse::<lettre::message::Mailbox>().ok())
        .unwrap_or_else(|| state.mail.default_from.clone());
    Ok(dkim::view(setting, from.email.domain())?)
}
