//! The crate's error type, [`StorageError`], and its [`Result`] alias.

/// Errors returned by every [`Storage`](crate::Storage) function.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row addressed by an update or delete does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness or reference constraint was violated (duplicate username,
    /// second disposition for a call, state change not allowed, row still
    /// referenced, reference to a missing row, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed a value that cannot be stored (bad phone number,
    /// unknown enum value, negative ratio, unsupported database URL, ...).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// Result alias used throughout the crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StorageError::NotFound("row".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StorageError::Conflict(format!("already exists: {}", db.message()))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StorageError::Conflict(format!("reference constraint: {}", db.message()))
            }
            _ => StorageError::Database(err),
        }
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(err: serde_json::Error) -> Self {
        StorageError::Database(sqlx::Error::Decode(Box::new(err)))
    }
}
