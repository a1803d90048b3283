//! Contact import from what spreadsheets export: any common encoding and
//! delimiter ([`crate::csv`]), a header row mapped to our fields (common
//! names in English and Spanish, or an explicit mapping), phone numbers
//! normalised to E.164 with a default country (the `phonenumber` crate),
//! duplicates within the file and against the list skipped and reported.
//! A row without a time zone gets its number's country's zone when that
//! country has one clock (`zones`), so calling hours use its local time.
//! All-or-nothing: one bad row and nothing is imported.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::contacts::ContactStatus;
use crate::util::{new_id, now_ms};
use crate::{col, csv, Result, Storage, StorageError};

mod rows;
mod zones;

pub(crate) use rows::{country_id, normalise_phone, parse_file};

/// How to read an import file; every field optional (detected otherwise).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ImportOptions {
    /// Encoding label (`utf-8`, `windows-1252`, `latin1`, `utf-16le`...),
    /// used when the file has no BOM.
    pub encoding: Option<String>,
    /// Field delimiter (one character); detected from the header otherwise.
    pub delimiter: Option<char>,
    /// ISO 3166 country for national numbers (overrides the campaign's `default_country`).
    pub country: Option<String>,
    /// Header of the phone column.
    pub phone_column: Option<String>,
    /// Header of the name column.
    pub name_column: Option<String>,
    /// Header of the time-zone column (IANA names such as `Europe/Madrid`).
    pub timezone_column: Option<String>,
}

/// One rejected row.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: usize,
    /// Why it was rejected.
    pub reason: String,
}

/// One row skipped because its phone is already in the file or the list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ImportDuplicate {
    /// 1-based line of the skipped row.
    pub line: usize,
    /// The normalised phone.
    pub phone: String,
    /// Line of the first row with that phone, or `None` when the list already had it.
    pub first_line: Option<usize>,
}

/// Which header went to which field.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ImportColumns {
    /// Phone column.
    pub phone: String,
    /// Name (or first name) column.
    pub name: Option<String>,
    /// Last-name column appended to the name.
    pub last_name: Option<String>,
    /// Time-zone column.
    pub timezone: Option<String>,
    /// Columns kept as extra contact data.
    pub extra: Vec<String>,
}

/// Outcome of an import: either every row was imported or skipped as a
/// duplicate (`errors` empty), or none was (`imported` is 0).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// List the contacts went into; `None` when nothing was imported.
    pub list_id: Option<String>,
    /// Number of contacts inserted.
    pub imported: usize,
    /// Every rejected row, in file order.
    pub errors: Vec<ImportError>,
    /// Rows skipped as duplicates, in file order.
    pub duplicates: Vec<ImportDuplicate>,
    /// Encoding the file was read with.
    pub encoding: String,
    /// Delimiter used.
    pub delimiter: String,
    /// Country used for national numbers, if any.
    pub country: Option<String>,
    /// Header mapping, when the header could be read.
    pub columns: Option<ImportColumns>,
    /// Imported contacts without a zone in the file whose zone was derived
    /// from their number's country (one that has a single clock).
    #[serde(default)]
    pub zones_from_numbers: usize,
}

/// Rows per multi-row INSERT during import on SQLite (10 parameters each).
const IMPORT_BATCH: usize = 50;

/// A multi-row INSERT of `rows` contacts. SQLite gets anonymous `?`
/// placeholders: it looks numbered ones up by name, which costs O(n) per
/// bind, so large statements would cost O(n²).
fn insert_sql(rows: usize, postgres: bool) -> String {
    let mut sql = String::from(
        "INSERT INTO contacts (id, list_id, campaign_id, phone, name, extra_json, status, \
         attempts, created_at, timezone) VALUES ",
    );
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..10 {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            if postgres {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

impl Storage {
    /// Imports contacts from CSV `bytes` into the list named `list_name`
    /// (created if missing, appended to otherwise), optionally assigned to a
    /// campaign whose `default_country` reads national numbers (unless
    /// `opts.country` is given).
    ///
    /// Every row is validated first: if any is bad, nothing is imported and
    /// the report lists each bad row with its line. Rows whose phone is
    /// already in the file or the list are skipped and listed as
    /// duplicates. The rest are inserted in one transaction. An unknown
    /// campaign gives [`StorageError::NotFound`]; an unreadable file, an
    /// unknown encoding or country, [`StorageError::Invalid`].
    pub async fn import_contacts(
        &self,
        list_name: &str,
        campaign_id: Option<&str>,
        bytes: &[u8],
        opts: &ImportOptions,
    ) -> Result<ImportReport> {
        let list_name = list_name.trim();
        if list_name.is_empty() {
            return Err(StorageError::Invalid("empty contact list name".into()));
        }
        let mut country = None;
        if let Some(cid) = campaign_id {
            let camp = self
                .get_campaign(cid)
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("campaign {cid}")))?;
            country = camp.default_country;
        }
        if let Some(c) = opts.country.as_deref().filter(|c| !c.trim().is_empty()) {
            country = Some(c.to_string());
        }
        let country = country.as_deref().map(country_id).transpose()?;
        let decoded =
            csv::decode(bytes, opts.encoding.as_deref()).map_err(StorageError::Invalid)?;
        let delimiter = match opts.delimiter {
            Some(d) if d.is_ascii() && !matches!(d, '"' | '\n' | '\r') => d as u8,
            Some(d) => {
                return Err(StorageError::Invalid(format!(
                    "delimiter {d:?} must be one ASCII character other than a quote or newline"
                )))
            }
            None => csv::detect_delimiter(&decoded.text),
        };
        let parsed = parse_file(&decoded.text, delimiter, opts, country);
        let mut report = ImportReport {
            encoding: decoded.encoding.name().to_string(),
            delimiter: (delimiter as char).to_string(),
            country: country.map(|c| c.as_ref().to_string()),
            columns: parsed.columns,
            ..Default::default()
        };
        if !parsed.errors.is_empty() {
            report.errors = parsed.errors;
            report.duplicates = parsed.duplicates;
            return Ok(report);
        }

        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT id FROM contact_lists WHERE name = $1")
            .bind(list_name)
            .fetch_optional(&mut *tx)
            .await?;
        let list_id = match existing {
            Some(row) => col::<String>(&row, "id")?,
            None => {
                let id = new_id();
                sqlx::query("INSERT INTO contact_lists (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(list_name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        let in_list: HashSet<String> = sqlx::query("SELECT phone FROM contacts WHERE list_id = $1")
            .bind(&list_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| col::<String>(r, "phone"))
            .collect::<Result<_>>()?;
        let mut duplicates = parsed.duplicates;
        let mut contacts = Vec::with_capacity(parsed.contacts.len());
        for c in parsed.contacts {
            if in_list.contains(&c.phone) {
                duplicates.push(ImportDuplicate {
                    line: c.line,
                    phone: c.phone,
                    first_line: None,
                });
            } else {
                contacts.push(c);
            }
        }
        duplicates.sort_by_key(|d| d.line);
        let batch = if self.is_postgres() {
            500
        } else {
            IMPORT_BATCH
        };
        for chunk in contacts.chunks(batch) {
            let sql = insert_sql(chunk.len(), self.is_postgres());
            let mut query = sqlx::query(&sql);
            for c in chunk {
                query = query
                    .bind(new_id())
                    .bind(list_id.clone())
                    .bind(campaign_id.map(str::to_string))
                    .bind(c.phone.clone())
                    .bind(c.name.clone())
                    .bind(c.extra.clone())
                    .bind(ContactStatus::New.as_str())
                    .bind(0i64)
                    .bind(now)
                    .bind(c.timezone.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        tracing::info!(
            list = list_name,
            count = contacts.len(),
            duplicates = duplicates.len(),
            "contacts imported"
        );
        report.list_id = Some(list_id);
        report.imported = contacts.len();
        report.zones_from_numbers = contacts.iter().filter(|c| c.zone_from_number).count();
        report.duplicates = duplicates;
        Ok(report)
    }

    /// [`Storage::import_contacts`] of UTF-8 text with every option detected.
    pub async fn import_contacts_csv(
        &self,
        list_name: &str,
        campaign_id: Option<&str>,
        csv_text: &str,
    ) -> Result<ImportReport> {
        let opts = ImportOptions::default();
        self.import_contacts(list_name, campaign_id, csv_text.as_bytes(), &opts)
            .await
    }
}
