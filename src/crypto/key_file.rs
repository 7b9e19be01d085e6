//! The generated instance secret, when `APP_SECRET` is unset: a file in `DATA_DIR` readable by
//! the owner only. It lives outside the database on purpose: a database dump or backup alone
//! must not decrypt the tokens sealed in it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::random_token;

/// The file's name inside `DATA_DIR`.
pub const FILE_NAME: &str = "app_secret";

/// Shortest secret accepted from the file, as for `APP_SECRET`.
const MIN_LEN: usize = 32;

/// Why the key file cannot be used; the message names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("key file {}: {message}", path.display())]
pub struct KeyFileError {
    pub path: PathBuf,
    pub message: String,
}

/// Reads `{dir}/app_secret`, creating it (mode 0600) when missing, with `seed` if given (the
/// secret an earlier version generated into the database) or a new random secret.
pub fn load_or_create(dir: &Path, seed: Option<&str>) -> Result<SecretString, KeyFileError> {
    let path = dir.join(FILE_NAME);
    let fail = |message: String| KeyFileError {
        path: path.clone(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return checked(&path, text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(format!("cannot read it: {e}"))),
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create its directory: {e}")))?;
    let secret = seed.map_or_else(|| random_token(32), str::to_owned);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(format!("{secret}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(format!("cannot write it: {e}")))?;
            Ok(secret.into())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| fail(format!("cannot read it: {e}")))?;
            checked(&path, text)
        }
        Err(e) => Err(fail(format!("cannot create it: {e}"))),
    }
}

fn checked(path: &Path, text: String) -> Result<SecretString, KeyFileError> {
    let fail = |message: String| KeyFileError {
        path: path.to_owned(),
        message,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|e| fail(format!("cannot read its permissions: {e}")))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "other users can read it (mode {:o}); run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            )));
        }
    }
    let secret = text.trim();
    if secret.len() < MIN_LEN {
        return Err(fail(format!(
            "holds fewer than {MIN_LEN} characters; remove it to have a new secret generated (stored tokens then need to be entered again) or set APP_SECRET"
        )));
    }
    Ok(secret.to_owned().into())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_generated_secret_lives_in_an_owner_only_file_and_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create(&data, None).unwrap();
        let again = load_or_create(&data, None).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert!(first.expose_secret().len() >= MIN_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(data.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_seed_becomes_the_secret_and_a_readable_or_short_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let seed = "s".repeat(40);
        let secret = load_or_create(dir.path(), Some(&seed)).unwrap();
        assert_eq!(secret.expose_secret(), seed);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let path = dir.path().join(FILE_NAME);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create(dir.path(), None).unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::write(&path, "short\n").unwrap();
            let err = load_or_create(dir.path(), None).unwrap_err().to_string();
            assert!(err.contains("fewer than 32"), "{err}");
        }
    }
}
