//! Dialplan versions: every plan source a call ran on is kept, keyed by its hash.

use super::{now_ms, Store, StoreError};
use crate::dialplan::Dialplan;
use rusqlite::{params, OptionalExtension};

/// A stored dialplan version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanVersion {
    /// Row id; calls point at it.
    pub id: i64,
    /// Plan name.
    pub name: String,
    /// SHA-256 of the source.
    pub sha256: String,
    /// When it was first stored.
    pub created_at_ms: i64,
}

impl Store {
    /// Stores `plan`'s source as a version (once per distinct source) and returns its row.
    pub fn save_version(&mut self, plan: &Dialplan) -> Result<PlanVersion, StoreError> {
        self.conn.execute(
            "INSERT INTO dialplan_versions (name, sha256, source, created_at_ms)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, sha256) DO NOTHING",
            params![plan.name, plan.sha256, plan.source, now_ms()],
        )?;
        let v = self.conn.query_row(
            "SELECT id, name, sha256, created_at_ms FROM dialplan_versions WHERE name = ?1 AND sha256 = ?2",
            params![plan.name, plan.sha256],
            |r| {
                Ok(PlanVersion {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    sha256: r.get(2)?,
                    created_at_ms: r.get(3)?,
                })
            },
        )?;
        Ok(v)
    }

    /// The source text of a stored version.
    pub fn version_source(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT source FROM dialplan_versions WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }
}
