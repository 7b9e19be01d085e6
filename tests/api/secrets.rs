//! The instance secret and the shop secrets sealed with it: kept out of the database, bound to
//! their shop and field, rotated without losing a stored token, and opened after an upgrade from
//! the unbound format.

use std::collections::HashMap;

use boomerang::config::{Config, ConfigError};
use boomerang::crypto::{key_file, Keys, SealedField, SealedFor};
use boomerang::db::models::{AppSetting, Shop};
use boomerang::db::schema::{app_settings, shops};
use boomerang::db::types::Platform;
use boomerang::db::Db;
use boomerang::mail::dkim::DkimKey;
use boomerang::services::mail::dkim::{self, DkimSetting};
use boomerang::services::shops::{add_shop, ShopSpec};
use boomerang::startup::prepare;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use crate::helpers::TestDb;

const OLD: &str = "old-app-secret-0123456789abcdef0123456789";
const NEW: &str = "new-app-secret-0123456789abcdef0123456789";

fn config(
    url: &str,
    data_dir: &std::path::Path,
    vars: &[(&str, &str)],
) -> Result<Config, ConfigError> {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), url.to_owned()),
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("DATABASE_POOL_SIZE".into(), "2".into()),
    ]);
    for (k, v) in vars {
        env.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(|k| env.get(k).cloned())
}

fn keys_of(secret: &str) -> Keys {
    Keys::derive(&SecretString::from(secret.to_owned()))
}

/// What versions before bound sealing wrote: `v1.` + nonce + ciphertext, no associated data.
fn legacy_seal(app_secret: &str, plaintext: &str) -> String {
    use base64::Engine as _;
    use chacha20poly1305::aead::{Aead, KeyInit};
    let key = boomerang::crypto::hmac_sha256(app_secret.as_bytes(), b"boomerang/v1/seal");
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key));
    let nonce = [3u8; 12];
    let mut out = nonce.to_vec();
    out.extend(
        cipher
            .encrypt(
                chacha20poly1305::Nonce::from_slice(&nonce),
                plaintext.as_bytes(),
            )
            .unwrap(),
    );
    format!(
        "v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    )
}

fn shop_with_token(db: &Db, keys: &Keys, domain: &str, token: &str) -> Shop {
    add_shop(
        &mut db.get().unwrap(),
        keys,
        &ShopSpec {
            platform: Some(Platform::Shopify),
            domain: domain.into(),
            access_token: Some(token.into()),
            ..Default::default()
        },
    )
    .unwrap()
    .shop
}

fn access_token(db: &Db, keys: &Keys, shop_id: &str) -> Option<String> {
    let shop = Shop::find(&mut db.get().unwrap(), shop_id).unwrap();
    keys.unseal(
        shop.access_token_enc.as_deref()?,
        SealedFor::new(shop_id, SealedField::AccessToken),
    )
    .ok()
    .map(|s| s.expose_secret().to_owned())
}

#[test]
fn the_generated_app_secret_lives_in_an_owner_only_file_not_in_the_database() {
    let (test_db, url) = TestDb::create();
    let data = tempfile::tempdir().unwrap();
    if test_db.is_postgres() {
        // Several instances share a PostgreSQL database: each would generate its own file.
        let err = config(&url, data.path(), &[]).err().map(|e| e.variable);
        assert_eq!(err, Some("APP_SECRET"));
        return;
    }
    let config = config(&url, data.path(), &[]).unwrap();
    let (db, keys) = prepare(&config).unwrap();
    let file = data.path().join(key_file::FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let rows: i64 = app_settings::table
        .count()
        .get_result(&mut db.get().unwrap())
        .unwrap();
    assert_eq!(rows, 0, "no secret in the database");
    let secret = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        keys.widget_secret("s1"),
        keys_of(secret.trim()).widget_secret("s1")
    );
    let (_, again) = prepare(&config).unwrap();
    assert_eq!(
        again.widget_secret("s1"),
        keys.widget_secret("s1"),
        "stable"
    );
}

#[test]
fn tokens_sealed_before_the_upgrade_still_open_bound_to_their_shop() {
    let (test_db, url) = TestDb::create();
    let data = tempfile::tempdir().unwrap();
    // SQLite moves the stored secret into the key file; PostgreSQL has APP_SECRET set, and the
    // stored one serves once to re-seal.
    let vars: &[(&str, &str)] = if test_db.is_postgres() {
        &[("APP_SECRET", NEW)]
    } else {
        &[]
    };
    let config = config(&url, data.path(), vars).unwrap();
    let db = Db::connect(&config.database_url, 2).unwrap();
    db.migrate().unwrap();
    let (shop_a, shop_b) = {
        let mut c = db.get().unwrap();
        // The state an earlier version left: its generated secret, and a token sealed unbound.
        AppSetting::get_or_insert_with(&mut c, "app_secret", || OLD.into()).unwrap();
        let unbound = keys_of(OLD);
        let a = shop_with_token(&db, &unbound, "legacy-a.myshopify.com", "unused");
        let b = shop_with_token(&db, &unbound, "legacy-b.myshopify.com", "unused");
        diesel::update(shops::table.find(&a.id))
            .set(shops::access_token_enc.eq(legacy_seal(OLD, "shpat_of_a")))
            .execute(&mut c)
            .unwrap();
        diesel::update(shops::table.find(&b.id))
            .set(shops::access_token_enc.eq(None::<String>))
            .execute(&mut c)
            .unwrap();
        (a.id, b.id)
    };
    drop(db);

    let (db, keys) = prepare(&config).unwrap();
    assert_eq!(
        access_token(&db, &keys, &shop_a).as_deref(),
        Some("shpat_of_a")
    );
    let current = if test_db.is_postgres() {
        NEW.to_owned()
    } else {
        std::fs::read_to_string(data.path().join(key_file::FILE_NAME))
            .unwrap()
            .trim()
            .to_owned()
    };
    if !test_db.is_postgres() {
        assert_eq!(current, OLD, "the stored secret moved into the key file");
    }
    assert_eq!(
        access_token(&db, &keys_of(&current), &shop_a).as_deref(),
        Some("shpat_of_a"),
        "re-sealed under the current secret alone"
    );
    let mut c = db.get().unwrap();
    assert_eq!(
        AppSetting::get(&mut c, "app_secret").unwrap(),
        None,
        "moved out"
    );
    // Copied into another shop's row, the sealed token does not open there.
    let sealed = Shop::find(&mut c, &shop_a).unwrap().access_token_enc;
    assert!(sealed.as_deref().unwrap().starts_with("v2."));
    diesel::update(shops::table.find(&shop_b))
        .set(shops::access_token_enc.eq(sealed))
        .execute(&mut c)
        .unwrap();
    assert_eq!(access_token(&db, &keys, &shop_b), None);
}

#[test]
fn a_rotated_app_secret_reseals_every_stored_token() {
    let (_test_db, url) = TestDb::create();
    let data = tempfile::tempdir().unwrap();
    let before = config(&url, data.path(), &[("APP_SECRET", OLD)]).unwrap();
    let (db, keys) = prepare(&before).unwrap();
    let shop = shop_with_token(&db, &keys, "rotate.myshopify.com", "shpat_rotate");
    let key = DkimKey::from_pem(&crate::helpers::fixture("dkim/rsa2048.pkcs1.pem")).unwrap();
    let published = key.dns_txt().unwrap();
    let setting = DkimSetting {
        domain: "rotate.example".into(),
        selector: "s1".into(),
        key,
    };
    dkim::store(&mut db.get().unwrap(), &keys, &shop.id, &setting).unwrap();
    drop(db);

    let after = config(
        &url,
        data.path(),
        &[("APP_SECRET", NEW), ("APP_SECRET_PREVIOUS", OLD)],
    )
    .unwrap();
    let (db, keys) = prepare(&after).unwrap();
    assert_eq!(
        access_token(&db, &keys, &shop.id).as_deref(),
        Some("shpat_rotate")
    );
    assert_eq!(
        access_token(&db, &keys_of(NEW), &shop.id).as_deref(),
        Some("shpat_rotate"),
        "opens without the previous secret: it can be removed"
    );
    assert_eq!(access_token(&db, &keys_of(OLD), &shop.id), None);
    // The DKIM key too: it opens under the new secret alone, as the same key.
    let row = Shop::find(&mut db.get().unwrap(), &shop.id).unwrap();
    let opened = dkim::load(&keys_of(NEW), &row).unwrap().unwrap();
    assert_eq!(opened.key.dns_txt().unwrap(), published);
    assert!(dkim::load(&keys_of(OLD), &row).is_err());
}
