//! Reading one row of a customer import (`customer_id,email,points,tier,birthday`, other columns
//! ignored, in any order): what it asks for, or why it cannot be imported, in words an owner can
//! act on with the row number beside them. No I/O: the service applies what this accepts.

mod problem;

use chrono::NaiveDate;

use crate::domain::event::{normalise_email, PlatformId};
use crate::domain::points::MAX_BALANCE;

pub use problem::RowProblem;

/// The columns the importer reads, by header name (case and surrounding spaces ignored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    customer_id: Option<usize>,
    email: Option<usize>,
    points: Option<usize>,
    tier: Option<usize>,
    birthday: Option<usize>,
}

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the header row needs a customer_id or an email column (got: {0})")]
    NoCustomerColumn(String),
    #[error("the header row names {0:?} twice")]
    Repeated(String),
}

impl Columns {
    pub fn from_header<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, HeaderError> {
        let mut columns = Self::default();
        let mut seen = Vec::new();
        for (i, raw) in names.into_iter().enumerate() {
            // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first name.
            let name = raw
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            let slot = match name.as_str() {
                "customer_id" => &mut columns.customer_id,
                "email" => &mut columns.email,
                "points" => &mut columns.points,
                "tier" => &mut columns.tier,
                "birthday" => &mut columns.birthday,
                _ => {
                    seen.push(name);
                    continue;
                }
            };
            if slot.is_some() {
                return Err(HeaderError::Repeated(name));
            }
            *slot = Some(i);
            seen.push(name);
        }
        if columns.customer_id.is_none() && columns.email.is_none() {
            return Err(HeaderError::NoCustomerColumn(seen.join(",")));
        }
        Ok(columns)
    }
}

/// What one row asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub customer_id: Option<PlatformId>,
    pub email: Option<String>,
    /// Points to credit as one `import` ledger line (0: none).
    pub points: i64,
    /// The id of one of the program's tiers, honoured as a grant for a year.
    pub tier: Option<String>,
    pub birthday: Option<NaiveDate>,
}

impl ImportRow {
    /// The row's identity for idempotency: importing the same row again for the same customer
    /// is recognised and changes nothing, wherever it sits in the file.
    pub fn key(&self) -> String {
        let text = format!(
            "{}|{}|{}|{}|{}",
            self.customer_id.as_ref().map_or("", PlatformId::as_str),
            self.email.as_deref().unwrap_or(""),
            self.points,
            self.tier.as_deref().unwrap_or(""),
            self.birthday.map(|d| d.to_string()).unwrap_or_default(),
        );
        crate::crypto::sha256_hex(&text)[..32].to_owned()
    }
}

/// Reads a row. `tiers`: the ids and names of the program's tiers (a tier column is matched
/// against either, case-insensitively, and answered with the id).
pub fn read_row(
    columns: &Columns,
    fields: &[&str],
    tiers: &[(String, String)],
) -> Result<ImportRow, RowProblem> {
    let field = |slot: Option<usize>| {
        slot.and_then(|i| fields.get(i))
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
    };
    let customer_id = field(columns.customer_id)
        .map(|raw| PlatformId::parse(raw).map_err(|_| RowProblem::BadCustomerId(raw.to_owned())))
        .transpose()?;
    let email = match field(columns.email) {
        None => None,
        Some(raw) if raw.len() > 254 || !looks_like_email(raw) => {
            return Err(RowProblem::BadEmail(raw.to_owned()));
        }
        Some(raw) => normalise_email(raw),
    };
    if customer_id.is_none() && email.is_none() {
        return Err(RowProblem::NoCustomer);
    }
    let points = match field(columns.points) {
        None => 0,
        Some(raw) => match raw.parse::<i64>() {
            Ok(p) if (0..=MAX_BALANCE).contains(&p) => p,
            Ok(_) => return Err(RowProblem::PointsOutOfRange(raw.to_owned())),
            Err(_) => return Err(RowProblem::PointsNotWhole(raw.to_owned())),
        },
    };
    let tier = field(columns.tier)
        .map(|raw| {
            tiers
                .iter()
                .find(|(id, name)| id.eq_ignore_ascii_case(raw) || name.eq_ignore_ascii_case(raw))
                .map(|(id, _)| id.clone())
                .ok_or_else(|| {
                    if tiers.is_empty() {
                        RowProblem::NoTiers(raw.to_owned())
                    } else {
                        RowProblem::UnknownTier {
                            value: raw.to_owned(),
                            known: tiers.iter().map(|(id, _)| id.clone()).collect(),
                        }
                    }
                })
        })
        .transpose()?;
    let birthday = field(columns.birthday)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| RowProblem::BadBirthday(raw.to_owned()))
        })
        .transpose()?;
    Ok(ImportRow {
        customer_id,
        email,
        points,
        tier,
        birthday,
    })
}

/// Enough of an address to mail: one `@` with something on both sides, a dot in the domain, no
/// spaces or control characters (the platform checked it properly when the customer gave it).
fn looks_like_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(header: &str) -> Columns {
        Columns::from_header(header.split(',')).unwrap()
    }

    fn tiers() -> Vec<(String, String)> {
        vec![
            ("gold".into(), "Gold".into()),
            ("silver".into(), "Silver".into()),
        ]
    }

    fn read(header: &str, row: &str) -> Result<ImportRow, RowProblem> {
        let fields: Vec<&str> = row.split(',').collect();
        read_row(&columns(header), &fields, &tiers())
    }

    #[test]
    fn a_full_row_reads_in_any_column_order_with_others_ignored() {
        let row = read(
            "\u{feff}Email , notes, POINTS,customer_id,tier,birthday",
            " Ann@Example.com ,vip,1200,gid://shopify/Customer/42,GOLD,1990-02-28",
        )
        .unwrap();
        assert_eq!(row.customer_id, Some(PlatformId::from_u64(42)));
        assert_eq!(row.email.as_deref(), Some("ann@example.com"));
        assert_eq!(row.points, 1200);
        assert_eq!(row.tier.as_deref(), Some("gold"));
        assert_eq!(row.birthday, NaiveDate::from_ymd_opt(1990, 2, 28));
    }

    #[test]
    fn blank_optional_fields_are_absent_and_an_email_alone_is_enough() {
        let row = read("customer_id,email,points,tier,birthday", ",bo@shop.test,,,").unwrap();
        assert_eq!(row.customer_id, None);
        assert_eq!(row.points, 0);
        assert_eq!(row.tier, None);
        assert_eq!(row.birthday, None);
    }

    #[test]
    fn every_bad_field_is_named_in_its_error() {
        let h = "customer_id,email,points,tier,birthday";
        for (row, needle) in [
            (",,5,,", "neither"),
            ("abc,,5,,", "customer_id \"abc\""),
            ("-4,,5,,", "customer_id"),
            ("1,not-an-email,5,,", "email"),
            ("1,a@b,5,,", "email"),
            ("1,,12.5,,", "not a whole number"),
            ("1,,-3,,", "must be 0"),
            ("1,,99999999999999999999,,", "not a whole number"),
            ("1,,5,platinum,", "not one of gold, silver"),
            ("1,,5,,28/02/1990", "YYYY-MM-DD"),
            ("1,,5,,1990-02-30", "birthday"),
        ] {
            let err = read(h, row).unwrap_err().to_string();
            assert!(err.contains(needle), "{row}: {err}");
        }
        let no_tiers = read_row(&columns(h), &["1", "", "5", "gold", ""], &[]).unwrap_err();
        assert_eq!(no_tiers, RowProblem::NoTiers("gold".into()));
        assert!(no_tiers.to_string().contains("no tiers"), "{no_tiers}");
    }

    #[test]
    fn headers_need_a_customer_column_and_no_repeats() {
        assert!(matches!(
            Columns::from_header(["points", "tier"]),
            Err(HeaderError::NoCustomerColumn(_))
        ));
        assert_eq!(
            Columns::from_header(["email", "Email"]),
            Err(HeaderError::Repeated("email".into()))
        );
    }

    #[test]
    fn the_key_is_the_rows_content_not_its_position() {
        let h = "customer_id,email,points,tier,birthday";
        let a = read(h, "7,a@b.co,100,,").unwrap();
        assert_eq!(a.key(), read(h, "7,A@B.co ,100,,").unwrap().key());
        assert_ne!(a.key(), read(h, "7,a@b.co,101,,").unwrap().key());
        assert_ne!(a.key(), read(h, "8,a@b.co,100,,").unwrap().key());
        assert_eq!(a.key().len(), 32);
    }
}
