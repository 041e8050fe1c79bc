//! Dialplan versions: every plan source a call ran on is kept, keyed by its hash, and every
//! time a version was made live (published, rolled back to, or edited on disk) is logged.

use super::db::{vals, Row};
use super::{now_ms, Store, StoreError};
use crate::dialplan::Dialplan;

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

/// A version as the operator page lists it: when it was last made live, and by whom.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VersionSummary {
    /// Row id.
    pub id: i64,
    /// SHA-256 of the source.
    pub sha256: String,
    /// When it was first stored.
    pub created_at_ms: i64,
    /// When it was last made live; `None` if it never was (stored by a simulation).
    pub published_at_ms: Option<i64>,
    /// Who made it live last (`file` for an edit on disk, `startup` when first loaded).
    pub published_by: Option<String>,
    /// How: `publish`, `rollback`, `file` or `startup`.
    pub action: Option<String>,
}

fn version_from_row(r: &Row) -> Result<PlanVersion, StoreError> {
    Ok(PlanVersion {
        id: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        created_at_ms: r.get(3)?,
    })
}

impl Store {
    /// Stores `plan`'s source as a version (once per distinct source) and returns its row.
    pub fn save_version(&mut self, plan: &Dialplan) -> Result<PlanVersion, StoreError> {
        self.conn.execute(
            "INSERT INTO dialplan_versions (name, sha256, source, created_at_ms)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, sha256) DO NOTHING",
            vals![&plan.name, &plan.sha256, &plan.source, now_ms()],
        )?;
        let r = self
            .conn
            .row(
                "SELECT id, name, sha256, created_at_ms FROM dialplan_versions WHERE name = ?1 AND sha256 = ?2",
                vals![&plan.name, &plan.sha256],
            )?
            .ok_or_else(|| StoreError::Backend("a version just stored is not there".into()))?;
        version_from_row(&r)
    }

    /// The source text of a stored version.
    pub fn version_source(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .row(
                "SELECT source FROM dialplan_versions WHERE id = ?1",
                vals![id],
            )?
            .map(|r| r.get(0))
            .transpose()
    }

    /// A stored version with its source.
    pub fn version(&self, id: i64) -> Result<Option<(PlanVersion, String)>, StoreError> {
        self.conn
            .row(
                "SELECT id, name, sha256, created_at_ms, source FROM dialplan_versions WHERE id = ?1",
                vals![id],
            )?
            .map(|r| Ok((version_from_row(&r)?, r.get(4)?)))
            .transpose()
    }

    /// Logs that version `version_id` of plan `name` went live (`action`: publish, rollback,
    /// file, startup; `by`: the user, or `None` for the server itself).
    pub fn record_publication(
        &mut self,
        name: &str,
        version_id: i64,
        action: &str,
        by: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO dialplan_publications (name, version_id, action, published_by, published_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vals![name, version_id, action, by, now_ms()],
        )?;
        Ok(())
    }

    /// The version of `name` made live last, if any.
    pub fn last_published(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .row(
                "SELECT version_id FROM dialplan_publications WHERE name = ?1 ORDER BY id DESC LIMIT 1",
                vals![name],
            )?
            .map(|r| r.get(0))
            .transpose()
    }

    /// Every stored version of `name`, newest first, with its last publication.
    pub fn plan_versions(&self, name: &str) -> Result<Vec<VersionSummary>, StoreError> {
        self.conn
            .rows(
                "SELECT v.id, v.sha256, v.created_at_ms, p.published_at_ms, p.published_by, p.action
                 FROM dialplan_versions v
                 LEFT JOIN dialplan_publications p ON p.id = (
                     SELECT MAX(id) FROM dialplan_publications WHERE version_id = v.id)
                 WHERE v.name = ?1
                 ORDER BY v.id DESC",
                vals![name],
            )?
            .iter()
            .map(|r| {
                Ok(VersionSummary {
                    id: r.get(0)?,
                    sha256: r.get(1)?,
                    created_at_ms: r.get(2)?,
                    published_at_ms: r.get(3)?,
                    published_by: r.get(4)?,
                    action: r.get(5)?,
                })
            })
            .collect()
    }
}
