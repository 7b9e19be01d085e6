//! The file transport: one `.eml` per message in `DATA_DIR/outbox/`, for development, the demo
//! and shops that have no relay yet.
//!
//! The file is named after the Message-ID, so the delivery job re-sending a message it could not
//! record (a crash between write and commit) overwrites the first copy instead of adding a
//! second. It is written to a temporary file in the same directory and renamed into place, so a
//! reader (the demo outbox page) never sees half a message.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Longest file stem kept from a Message-ID; file systems allow 255 bytes per name.
const MAX_STEM_BYTES: usize = 200;

/// `{message id}.eml`, the id reduced to characters safe in a file name on every platform.
///
/// `<0192…@rewards.shop.example>` becomes `0192…@rewards.shop.example.eml`. Ids the message
/// module generates use only safe characters, so two of them never map to one name. A message
/// without a Message-ID is named by the SHA-256 of its bytes: the same bytes, the same file.
pub fn file_name(message_id: Option<&str>, formatted: &[u8]) -> String {
    let stem: String = message_id
        .unwrap_or_default()
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '@' | '_' | '-' | '+' | '=' => c,
            _ => '_',
        })
        .take(MAX_STEM_BYTES)
        .collect();
    // A leading dot would hide the file, and "." or ".." would name a directory.
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        let digest = hex::encode(Sha256::digest(formatted));
        format!("sha256-{digest}.eml")
    } else {
        format!("{stem}.eml")
    }
}

/// Writes `bytes` to `dir/name` atomically, creating `dir` if needed, and makes both the file
/// and its directory entry durable before returning: the caller records the message as sent
/// once this succeeds.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // The temporary name does not end in `.eml`, so listings of the outbox skip it.
    let mut temporary = tempfile::Builder::new()
        .prefix(".")
        .suffix(".eml.tmp")
        .tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(dir.join(name)).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_message_id_without_brackets() {
        assert_eq!(
            file_name(Some("<01J9ZK.welcome@rewards.shop.example>"), b""),
            "01J9ZK.welcome@rewards.shop.example.eml"
        );
    }

    #[test]
    fn path_and_unsafe_characters_cannot_escape_the_outbox() {
        for id in [
            "<../../etc/passwd>",
            "<a/b\\c:d*e?f\"g|h>",
            "..",
            "<.hidden@x>",
        ] {
            let name = file_name(Some(id), b"");
            assert!(!name.starts_with('.'), "{id}: {name}");
            assert!(
                !name.contains(['/', '\\', ':', '*', '?', '"', '|']),
                "{id}: {name}"
            );
            assert!(name.ends_with(".eml"));
        }
    }

    #[test]
    fn a_long_id_is_cut_to_a_name_file_systems_accept() {
        let id = format!("<{}@x>", "é".repeat(300));
        assert!(file_name(Some(&id), b"").len() <= MAX_STEM_BYTES + ".eml".len());
    }

    #[test]
    fn without_an_id_the_same_bytes_get_the_same_name() {
        let first = file_name(None, b"Subject: hi\r\n\r\nbody");
        assert_eq!(first, file_name(Some("<>"), b"Subject: hi\r\n\r\nbody"));
        assert_ne!(first, file_name(None, b"Subject: hi\r\n\r\nanother body"));
        assert!(first.starts_with("sha256-") && first.ends_with(".eml"));
    }

    #[test]
    fn writing_twice_leaves_one_file_with_the_last_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        write_atomically(&outbox, "m@x.eml", b"first").unwrap();
        write_atomically(&outbox, "m@x.eml", b"second").unwrap();
        let names: Vec<_> = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["m@x.eml"]);
        assert_eq!(std::fs::read(outbox.join("m@x.eml")).unwrap(), b"second");
    }
}
