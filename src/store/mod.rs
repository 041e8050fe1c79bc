//! The store: calls, transcript turns, events, escalations, dialplan versions and users (with
//! their sessions and API tokens) in SQLite.
//!
//! Owns the schema (`schema`: numbered migrations tracked by `PRAGMA user_version`) and every
//! query (`calls`, `versions`, `users`). Nothing else in the crate writes SQL, so a Postgres backend for
//! several nodes (DESIGN §10) replaces this module only. Must not know about SIP, media or HTTP.

mod agent_views;
mod calls;
mod schema;
mod users;
mod versions;

pub use agent_views::{MessageItem, ReasonCount};
pub use calls::{
    new_call_id, CallAudio, CallRecord, EarlierCall, LegDetails, SpeechTurn, StoredCall,
    StoredEvent, StoredTurn,
};
pub use users::{TokenHolder, UserRecord};
pub use versions::{PlanVersion, VersionSummary};

use std::path::Path;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused (locked, full, corrupt…).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column could not be read back.
    #[error("stored data is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The file was written by a newer humanline.
    #[error("database schema version {found} is newer than this humanline understands ({known}); upgrade humanline")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
}

/// A connection to the store.
pub struct Store {
    conn: rusqlite::Connection,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::init(conn)
    }

    /// A private in-memory store (tests, `simulate` without `--db`).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(rusqlite::Connection::open_in_memory()?)
    }

    fn init(mut conn: rusqlite::Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// Milliseconds since the Unix epoch, for timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
