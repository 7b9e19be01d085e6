//! A webhook body as the inbox stores it (`inbox_events.payload`): on SQLite compressed with
//! lz4, on PostgreSQL as text (which PostgreSQL compresses itself, with lz4 where the server
//! has it: migration `…_inbox_claim_of_open_events_and_lz4_bodies`).
//!
//! Why SQLite: a Shopify order's body is ~2.8 KB, so an inbox row filled most of a 4 KB page,
//! and marking an event applied rewrote that whole page; an applier batch of 1,024 events wrote
//! ~4 MB of inbox pages to the log at its commit, and the checkpointer copied them again.
//! Compressed, a body takes about a third of that: three rows share a page, and the writer, the
//! applier's marks and the checkpointer each write a third of the pages (docs/PERFORMANCE.md,
//! twenty-third session).
//!
//! The column stays `TEXT`: SQLite keeps a BLOB in a TEXT column as it is, so a compressed
//! body is a BLOB (the 4-byte little-endian length of the text, then the lz4 block) and any
//! other value is the body's text as before: rows stored before this change, bodies too short
//! to gain, and the markers written over erased or redacted bodies, which statements compare
//! as text. What is read back is always the text exactly as it was signed. (A build older than
//! this module reads a compressed body as text that is not JSON: one should not be run on a
//! database this one has stored bodies in.)

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::{
    is_aggregate, AppearsOnTable, AsExpression, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Binary, Text};
use diesel::sqlite::{Sqlite, SqliteType};
use diesel::QueryResult;

use super::MultiBackend;

/// Bodies shorter than this are stored as text: lz4 gains little on them, and the markers
/// that replace erased bodies stay comparable as text.
const COMPRESS_FROM_BYTES: usize = 256;

/// The longest text a stored BLOB may claim to hold. A body is at most `MAX_BODY_BYTES` (a few
/// MiB at most); a larger claim is a damaged value, refused before anything is allocated for it.
const MAX_DECOMPRESSED_BYTES: usize = 64 << 20;

/// What a damaged compressed body reads as: not JSON, so applying its event keeps it as failed
/// with this reason (visible to the owner) instead of failing every read of the inbox.
const UNREADABLE_PREFIX: &str = "unreadable stored body: ";

/// A webhook body's text, stored compressed on SQLite. Loaded and stored through the inbox's
/// models (`#[diesel(serialize_as/deserialize_as)]`), or loaded directly as this type.
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct StoredBody(pub String);

impl From<String> for StoredBody {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<StoredBody> for String {
    fn from(body: StoredBody) -> Self {
        body.0
    }
}

/// The body as SQLite stores it: `Some(blob)` when compressing makes it smaller.
fn compressed(text: &str) -> Option<Vec<u8>> {
    if text.len() < COMPRESS_FROM_BYTES {
        return None;
    }
    let blob = lz4_flex::compress_prepend_size(text.as_bytes());
    (blob.len() < text.len()).then_some(blob)
}

/// The text of a compressed body; a damaged one reads as a text that says so.
fn decompressed(blob: &[u8]) -> String {
    let text = lz4_flex::block::uncompressed_size(blob)
        .map_err(|e| e.to_string())
        .and_then(|(size, block)| {
            if size > MAX_DECOMPRESSED_BYTES {
                Err(format!("it claims {size} bytes"))
            } else {
                lz4_flex::decompress(block, size).map_err(|e| e.to_string())
            }
        })
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()));
    text.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored webhook body cannot be decompressed");
        format!("{UNREADABLE_PREFIX}{e}")
    })
}

impl FromSql<Text, Sqlite> for StoredBody {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Binary) {
            return Ok(Self(decompressed(value.read_blob())));
        }
        Ok(Self(value.read_text().to_owned()))
    }
}

impl FromSql<Text, Pg> for StoredBody {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <String as FromSql<Text, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Text, MultiBackend> for StoredBody {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

/// A body as a value to store: the column is `TEXT`, but on SQLite a compressed body is bound
/// as a BLOB, which diesel binds only under a binary SQL type, so the value writes its own
/// bind (a `ToSql` for `Text` may only bind text).
#[derive(Debug, Clone)]
pub struct BodyValue {
    text: String,
    /// What SQLite stores instead of the text, when compressing made it smaller.
    blob: Option<Vec<u8>>,
}

impl AsExpression<Text> for StoredBody {
    type Expression = BodyValue;

    fn as_expression(self) -> BodyValue {
        // Compressed once, as the value is made: the writer's insert binds it once per row.
        let blob = compressed(&self.0);
        BodyValue { text: self.0, blob }
    }
}

impl Expression for BodyValue {
    type SqlType = Text;
}

impl<QS> AppearsOnTable<QS> for BodyValue {}

impl<QS> SelectableExpression<QS> for BodyValue {}

impl<GB> ValidGrouping<GB> for BodyValue {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for BodyValue {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Sqlite> for BodyValue {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        match &self.blob {
            Some(blob) => pass.push_bind_param::<Binary, _>(blob),
            None => pass.push_bind_param::<Text, _>(&self.text),
        }
    }
}

impl QueryFragment<Pg> for BodyValue {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param::<Text, _>(&self.text)
    }
}

impl QueryFragment<MultiBackend> for BodyValue {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use super::*;

    diesel::table! {
        bodies (id) {
            id -> Integer,
            payload -> Text,
        }
    }

    #[derive(Insertable)]
    #[diesel(table_name = bodies)]
    struct NewBody {
        id: i32,
        #[diesel(serialize_as = StoredBody)]
        payload: String,
    }

    /// (SQLite's type of the stored value, the text read back) for each body stored through
    /// diesel, as the inbox stores and reads them, in one multi-row insert.
    fn stored_and_read(texts: &[String]) -> Vec<(String, String)> {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE bodies (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            .unwrap();
        let rows: Vec<NewBody> = (0..)
            .zip(texts)
            .map(|(id, text)| NewBody {
                id,
                payload: text.clone(),
            })
            .collect();
        diesel::insert_into(bodies::table)
            .values(rows)
            .execute(&mut conn)
            .unwrap();
        bodies::table
            .order(bodies::id)
            .select((diesel::dsl::sql::<Text>("typeof(payload)"), bodies::payload))
            .load::<(String, StoredBody)>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|(kind, body)| (kind, body.0))
            .collect()
    }

    #[test]
    fn sqlite_stores_a_long_body_as_a_blob_and_a_short_one_as_text_and_reads_both_back() {
        let texts = [
            order_body(),
            r#"{"redacted":true}"#.to_owned(),
            String::new(),
        ];
        let read = stored_and_read(&texts);
        let kinds: Vec<&str> = read.iter().map(|(kind, _)| kind.as_str()).collect();
        assert_eq!(kinds, ["blob", "text", "text"]);
        let back: Vec<String> = read.into_iter().map(|(_, text)| text).collect();
        assert_eq!(back, texts);
    }

    #[test]
    fn a_row_stored_as_text_before_compression_reads_back_as_it_is() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE bodies (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            .unwrap();
        let old = order_body();
        diesel::sql_query("INSERT INTO bodies (id, payload) VALUES (1, ?)")
            .bind::<Text, _>(&old)
            .execute(&mut conn)
            .unwrap();
        let read: StoredBody = bodies::table
            .select(bodies::payload)
            .first(&mut conn)
            .unwrap();
        assert_eq!(read.0, old);
    }

    fn order_body() -> String {
        let line = r#"{"id":1,"title":"Tea","price":"12.50","quantity":2,"sku":"TEA-1"}"#;
        format!(
            r#"{{"id":820982911946154508,"email":"jon@example.com","line_items":[{}]}}"#,
            vec![line; 30].join(",")
        )
    }

    #[test]
    fn a_body_comes_back_byte_for_byte_from_its_compressed_form() {
        let body = order_body();
        let blob = compressed(&body).expect("an order's body is worth compressing");
        assert!(
            blob.len() < body.len() / 2,
            "{} of {}",
            blob.len(),
            body.len()
        );
        assert_eq!(decompressed(&blob), body);
        let unicode = format!("{} «ünïcødé» 注文 🎉", order_body());
        assert_eq!(decompressed(&compressed(&unicode).unwrap()), unicode);
    }

    #[test]
    fn short_bodies_and_markers_stay_text() {
        assert_eq!(compressed(""), None);
        assert_eq!(compressed(r#"{"id":1}"#), None);
        assert_eq!(compressed(&"x".repeat(COMPRESS_FROM_BYTES - 1)), None);
    }

    #[test]
    fn a_body_that_does_not_shrink_stays_text() {
        // Bytes lz4 finds no repeats in: its block would be longer than the text.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: String = (0..600)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + u8::try_from(state % 90).unwrap())
            })
            .collect();
        assert_eq!(compressed(&noise), None);
    }

    #[test]
    fn a_damaged_blob_reads_as_text_that_is_not_json_and_says_why() {
        let mut blob = compressed(&order_body()).unwrap();
        for damaged in [
            blob[..3].to_vec(),                                       // not even its length
            blob[..blob.len() / 2].to_vec(),                          // cut short
            [u32::MAX.to_le_bytes().as_slice(), &blob[4..]].concat(), // claims 4 GiB
        ] {
            let text = decompressed(&damaged);
            assert!(text.starts_with(UNREADABLE_PREFIX), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
        }
        // Valid lz4 of bytes that are not UTF-8.
        blob = lz4_flex::compress_prepend_size(&[0xff; 300]);
        assert!(decompressed(&blob).starts_with(UNREADABLE_PREFIX));
    }
}
