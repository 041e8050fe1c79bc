//! The store: calls, transcript turns, events, escalations, dialplan versions and users (with
//! their sessions and API tokens), in an SQLite file for one node or in PostgreSQL for several
//! nodes sharing one database (DESIGN §10; `[store] postgres`).
//!
//! Owns the schema (`schema`: numbered migrations per backend) and every query (`calls`,
//! `versions`, `users`, `agent_views`), written once for both backends through [`db`]. Nothing
//! else in the crate writes SQL. Must not know about SIP, media or HTTP.

pub mod access;
mod agent_views;
mod agents;
pub mod callbacks;
mod calls;
pub mod db;
mod handle;
pub mod records;
mod schema;
mod switches;
mod users;
mod versions;
mod waiting;

pub use crate::ids::new_call_id;
pub use access::CallScope;
pub use agent_views::{MessageItem, ReasonCount};
pub use agents::SharedRegistration;
pub use callbacks::{CallbackRow, NewCallback};
pub use calls::{
    CallAudio, CallRecord, CallSummary, EarlierCall, LegDetails, SpeechTurn, StoredCall,
    StoredEvent, StoredTurn,
};
pub use handle::StoreHandle;
pub use switches::LineSwitchChange;
pub use users::{TokenHolder, UserRecord};
pub use versions::{PlanVersion, VersionSummary};
pub use waiting::QueueWaitingRow;

use std::path::Path;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused (locked, full, corrupt…).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused, or could not be reached.
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
    /// A stored JSON column could not be read back.
    #[error("stored data is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A column held another type than the query expected.
    #[error("database error: {0}")]
    Type(String),
    /// The connection to the database is gone.
    #[error("database error: {0}")]
    Backend(String),
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
    conn: db::Db,
    /// This server's name, written on each call it stores.
    node: String,
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
        Ok(Store {
            conn: db::Db::Sqlite(conn),
            node: default_node(),
        })
    }

    /// Connects to a PostgreSQL database shared by several nodes (`conninfo` in libpq style:
    /// `host=10.0.0.5 port=5432 user=humanline dbname=humanline`) and brings its schema up to
    /// date (one node at a time). `node` names this server on the calls it stores.
    pub fn open_postgres(conninfo: &str, node: &str) -> Result<Self, StoreError> {
        let link = db::PgLink::connect(conninfo)?;
        schema::migrate_pg(&link)?;
        Ok(Store {
            conn: db::Db::Postgres(link),
            node: node.to_string(),
        })
    }

    /// The store `[store]` names: Postgres when `postgres` is set, else the SQLite file.
    pub fn open_configured(config: &crate::config::Config) -> Result<Self, StoreError> {
        let node = config.store.node.clone().unwrap_or_else(default_node);
        match &config.store.postgres {
            Some(conninfo) => Self::open_postgres(conninfo, &node),
            None => {
                let mut s = Self::open(&config.paths.database)?;
                s.node = node;
                Ok(s)
            }
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let sql = match self.conn {
            db::Db::Sqlite(_) => "PRAGMA user_version",
            db::Db::Postgres(_) => "SELECT version FROM humanline_schema",
        };
        self.conn.row(sql, vec![])?.map_or(Ok(0), |r| r.get(0))
    }

    /// This server's name in the store.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Which backend: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.conn {
            db::Db::Sqlite(_) => "sqlite",
            db::Db::Postgres(_) => "postgres",
        }
    }
}

/// The node name when `[store] node` is unset: the host name.
fn default_node() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "humanline".into())
}

/// Milliseconds since the Unix epoch, for timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
