//! Small shared helpers: id and token generation, the clock, the monotonic
//! sequence for ordering rows written in the same millisecond, row decoding
//! helpers and a tiny builder for SQL with numbered (`$n`) placeholders.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use rand::RngCore;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::error::{Result, StorageError};

/// Current time as unix milliseconds (UTC).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random row id (32 lowercase hex characters, 128 bits).
pub fn new_id() -> String {
    random_hex(16)
}

/// A new random session token (64 lowercase hex characters, 256 bits from a
/// cryptographically secure generator).
pub(crate) fn new_token() -> String {
    random_hex(32)
}

static LAST_SEQ: AtomicI64 = AtomicI64::new(0);

/// Next value of the process-wide, strictly increasing sequence used to order
/// rows that share a timestamp. It is microseconds since the epoch, bumped by
/// one when called twice in the same microsecond, so it also keeps increasing
/// across restarts (as long as the clock does not go back).
pub(crate) fn next_seq() -> i64 {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let prev = LAST_SEQ
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now_us.max(last + 1))
        })
        .unwrap_or(0);
    now_us.max(prev + 1)
}

/// Escapes `%`, `_` and `\` so a user string matches literally inside a
/// `LIKE ... ESCAPE '\'` pattern, and wraps it in `%...%` (substring match).
pub(crate) fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Decodes a BIGINT 0/1 column as a bool.
pub(crate) fn get_bool(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

/// Encodes a bool as BIGINT 0/1.
pub(crate) fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

/// Decodes a TEXT column holding one of the crate's string enums.
pub(crate) fn get_enum<T: FromStr<Err = StorageError>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    s.parse()
        .map_err(|e: StorageError| StorageError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// Decodes a TEXT column holding JSON.
pub(crate) fn get_json(row: &AnyRow, col: &str) -> Result<serde_json::Value> {
    let s: String = row.try_get(col)?;
    Ok(serde_json::from_str(&s)?)
}

/// Decodes every row with `f`.
pub(crate) fn decode_all<T>(rows: &[AnyRow], f: fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// Maps "0 rows affected" to [`StorageError::NotFound`].
pub(crate) fn expect_one(affected: u64, what: &str, id: &str) -> Result<()> {
    if affected == 0 {
        Err(StorageError::NotFound(format!("{what} {id}")))
    } else {
        Ok(())
    }
}

/// A bound argument of a dynamically built query.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

/// SQL text plus its arguments, numbering placeholders `$1, $2, ...` as they
/// are added (valid for both SQLite and PostgreSQL).
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub(crate) text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Starts a statement with `text`.
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends raw SQL.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Registers an argument and returns its placeholder (`$n`).
    pub(crate) fn arg(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Builds the sqlx query with every argument bound.
    pub(crate) fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }
}

/// Declares a string-backed enum stored as TEXT and serialized as the same
/// string in JSON, with `as_str`, `Display` and `FromStr`.
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::StorageError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)+
                    other => Err($crate::StorageError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        other
                    ))),
                }
            }
        }
    };
}
pub(crate) use str_enum;
