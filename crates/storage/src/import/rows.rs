//! Reading an import file's rows: the header mapped to our fields, phone
//! numbers normalised, time zones checked (or derived from the number's
//! country when the row has none), duplicates within the file found.

use std::collections::HashMap;

use phonenumber::country::Id as CountryId;
use phonenumber::Mode;

use super::{ImportColumns, ImportDuplicate, ImportError, ImportOptions};
use crate::contacts::phone_problem;
use crate::{csv, Result, StorageError};

/// The country with this ISO 3166 code, or an `Invalid` error naming it.
pub(crate) fn country_id(code: &str) -> Result<CountryId> {
    code.trim().to_ascii_uppercase().parse().map_err(|_| {
        StorageError::Invalid(format!(
            "unknown country {code:?} (an ISO 3166 code such as ES, AR, US)"
        ))
    })
}

/// `raw` as E.164 (`+34600123456`). With a country, or a leading `+`, the
/// number must be valid for its country; without either it is kept as
/// dialled (digits only, separators removed), for extensions and trunks
/// that take national numbers.
pub(crate) fn normalise_phone(
    raw: &str,
    country: Option<CountryId>,
) -> std::result::Result<String, String> {
    normalise_with_country(raw, country).map(|(phone, _)| phone)
}

/// [`normalise_phone`], with the country the number belongs to when it was
/// read as an international or national number (not kept as dialled).
fn normalise_with_country(
    raw: &str,
    country: Option<CountryId>,
) -> std::result::Result<(String, Option<CountryId>), String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("phone is empty".into());
    }
    if country.is_some() || raw.starts_with('+') {
        let parsed = phonenumber::parse(country, raw)
            .map_err(|_| format!("phone {raw:?} is not a phone number"))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(match country {
                Some(c) if !raw.starts_with('+') && !raw.starts_with("00") => {
                    format!("phone {raw:?} is not a valid {} number", c.as_ref())
                }
                _ => format!("phone {raw:?} is not a valid international number"),
            });
        }
        let e164 = parsed.format().mode(Mode::E164).to_string();
        return Ok((e164, parsed.country().id()));
    }
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
        .collect();
    match phone_problem(&compact) {
        Some(problem) => Err(problem),
        None => Ok((compact, None)),
    }
}

/// Header folded for matching: lower case, no accents, letters and digits only.
fn fold(header: &str) -> String {
    header
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' => Some('a'),
            'é' | 'è' | 'ë' | 'ê' => Some('e'),
            'í' | 'ì' | 'ï' | 'î' => Some('i'),
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' => Some('o'),
            'ú' | 'ù' | 'ü' | 'û' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

const PHONE_NAMES: &[&str] = &[
    "phone",
    "phonenumber",
    "telephone",
    "tel",
    "mobile",
    "mobilephone",
    "cell",
    "cellphone",
    "number",
    "msisdn",
    "telefono",
    "numerodetelefono",
    "numerotelefono",
    "telf",
    "tlf",
    "movil",
    "celular",
    "numero",
    "telemovel",
    "telefone",
];
const NAME_NAMES: &[&str] = &[
    "name",
    "fullname",
    "firstname",
    "givenname",
    "contact",
    "contactname",
    "customer",
    "customername",
    "nombre",
    "nombrecompleto",
    "nombres",
    "contacto",
    "cliente",
    "nome",
];
const LAST_NAMES: &[&str] = &["lastname", "surname", "familyname", "apellido", "apellidos"];
const TZ_NAMES: &[&str] = &[
    "timezone",
    "tz",
    "zone",
    "zonahoraria",
    "husohorario",
    "fusohorario",
];

/// Index of the column named `wanted` (exact, case-insensitive), or of the
/// first column whose folded header is in `names`.
fn find_column(
    headers: &[String],
    wanted: Option<&str>,
    names: &[&str],
) -> std::result::Result<Option<usize>, String> {
    if let Some(w) = wanted.map(str::trim).filter(|w| !w.is_empty()) {
        let w_lower = w.to_lowercase();
        return headers
            .iter()
            .position(|h| h.to_lowercase() == w_lower)
            .map(Some)
            .ok_or_else(|| format!("no column named {w:?} (columns: {})", headers.join(", ")));
    }
    let folded: Vec<String> = headers.iter().map(|h| fold(h)).collect();
    Ok(names
        .iter()
        .find_map(|n| folded.iter().position(|f| f == n)))
}

/// A validated row ready to insert.
pub(crate) struct ParsedContact {
    pub line: usize,
    pub phone: String,
    pub name: String,
    pub timezone: Option<String>,
    /// `timezone` comes from the number's country, not from the file.
    pub zone_from_number: bool,
    pub extra: String,
}

/// A file read and validated: rows to insert (duplicates within the file
/// already removed and listed), or the errors.
pub(crate) struct ParsedFile {
    pub contacts: Vec<ParsedContact>,
    pub errors: Vec<ImportError>,
    pub duplicates: Vec<ImportDuplicate>,
    pub columns: Option<ImportColumns>,
}

/// Reads and validates every row of `text`.
pub(crate) fn parse_file(
    text: &str,
    delimiter: u8,
    opts: &ImportOptions,
    country: Option<CountryId>,
) -> ParsedFile {
    let mut out = ParsedFile {
        contacts: Vec::new(),
        errors: Vec::new(),
        duplicates: Vec::new(),
        columns: None,
    };
    let err = |line: usize, reason: String| ImportError { line, reason };
    let mut records = csv::records(text, delimiter).into_iter();
    let Some(header) = records.next() else {
        out.errors.push(err(1, "missing header row".into()));
        return out;
    };
    if let Some(e) = &header.error {
        out.errors.push(err(header.line, format!("header: {e}")));
        return out;
    }
    let names: Vec<String> = header.fields.iter().map(|h| h.trim().to_string()).collect();
    for (i, n) in names.iter().enumerate() {
        if !n.is_empty() && names[..i].iter().any(|m| m.eq_ignore_ascii_case(n)) {
            out.errors
                .push(err(header.line, format!("duplicate column {n:?}")));
        }
    }
    let found = (|| {
        let phone =
            find_column(&names, opts.phone_column.as_deref(), PHONE_NAMES)?.ok_or_else(|| {
                format!(
                    "no phone column (looked for phone, teléfono, móvil, ...; columns: {}); \
                     name it with phone_column",
                    names.join(", ")
                )
            })?;
        let name = find_column(&names, opts.name_column.as_deref(), NAME_NAMES)?;
        let last = if opts.name_column.is_some() {
            None
        } else {
            find_column(&names, None, LAST_NAMES)?
        };
        let tz = find_column(&names, opts.timezone_column.as_deref(), TZ_NAMES)?;
        Ok::<_, String>((phone, name.filter(|n| *n != phone), last, tz))
    })();
    let (phone_idx, name_idx, last_idx, tz_idx) = match found {
        Ok(f) => f,
        Err(e) => {
            out.errors.push(err(header.line, e));
            return out;
        }
    };
    let mapped = [Some(phone_idx), name_idx, last_idx, tz_idx];
    let extra_idx: Vec<usize> = (0..names.len())
        .filter(|i| !mapped.contains(&Some(*i)) && !names[*i].is_empty())
        .collect();
    out.columns = Some(ImportColumns {
        phone: names[phone_idx].clone(),
        name: name_idx.map(|i| names[i].clone()),
        last_name: last_idx.map(|i| names[i].clone()),
        timezone: tz_idx.map(|i| names[i].clone()),
        extra: extra_idx.iter().map(|i| names[*i].clone()).collect(),
    });
    if !out.errors.is_empty() {
        return out;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for rec in records {
        if let Some(e) = &rec.error {
            out.errors.push(err(rec.line, e.clone()));
            continue;
        }
        if rec.fields.len() != names.len() {
            let (got, want) = (rec.fields.len(), names.len());
            out.errors.push(err(
                rec.line,
                format!("has {got} fields, header has {want}"),
            ));
            continue;
        }
        let (phone, number_country) = match normalise_with_country(&rec.fields[phone_idx], country)
        {
            Ok(p) => p,
            Err(e) => {
                out.errors.push(err(rec.line, e));
                continue;
            }
        };
        let given = match tz_idx
            .map(|i| rec.fields[i].trim())
            .filter(|t| !t.is_empty())
        {
            Some(tz) if tz.parse::<chrono_tz::Tz>().is_err() => {
                out.errors.push(err(
                    rec.line,
                    format!("time zone {tz:?} is not an IANA zone name such as Europe/Madrid"),
                ));
                continue;
            }
            other => other.map(str::to_string),
        };
        // No zone given: the number's country's, where it has one clock.
        let derived = match (&given, number_country) {
            (None, Some(c)) => super::zones::country_zone(c.as_ref()),
            _ => None,
        };
        let zone_from_number = derived.is_some();
        let timezone = given.or(derived.map(str::to_string));
        if let Some(first) = seen.get(&phone) {
            out.duplicates.push(ImportDuplicate {
                line: rec.line,
                phone,
                first_line: Some(*first),
            });
            continue;
        }
        seen.insert(phone.clone(), rec.line);
        let field = |i: Option<usize>| i.map(|i| rec.fields[i].trim()).unwrap_or("");
        let name = [field(name_idx), field(last_idx)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let extra: serde_json::Map<String, serde_json::Value> = extra_idx
            .iter()
            .map(|i| (names[*i].clone(), rec.fields[*i].clone().into()))
            .collect();
        out.contacts.push(ParsedContact {
            line: rec.line,
            phone,
            name,
            timezone,
            zone_from_number,
            extra: serde_json::Value::Object(extra).to_string(),
        });
    }
    if out.contacts.is_empty() && out.duplicates.is_empty() && out.errors.is_empty() {
        out.errors
            .push(err(header.line + 1, "no contacts after the header".into()));
    }
    out
}
