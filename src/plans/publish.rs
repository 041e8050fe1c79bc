//! Publishing a new version of a plan from the operator page, and rolling back to an old one.

use super::{stamp, valid_name, PlanCache, PlanError};
use crate::dialplan::{Diagnostic, DialplanError, ProblemKind, Severity};
use std::io::Write;
use std::path::Path;

/// Why a version did not go live. The live version is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The source does not validate: every problem, with its line.
    #[error("the plan is invalid:\n{0}")]
    Invalid(DialplanError),
    /// No such plan or version.
    #[error("{0}")]
    NotFound(String),
    /// The plan file could not be written, or the store refused.
    #[error("{0}")]
    Io(String),
}

impl From<PlanError> for PublishError {
    fn from(e: PlanError) -> Self {
        PublishError::Io(e.to_string())
    }
}

impl PlanCache {
    /// Makes `source` the live version of plan `name`: validates it (refused while invalid),
    /// stores it, writes the plan file and hands it to new calls. Calls in progress keep theirs.
    /// Returns the new live version's id.
    pub fn publish(&self, name: &str, source: &str, by: &str) -> Result<i64, PublishError> {
        self.make_live(name, source, "publish", by)
    }

    /// Makes stored version `version_id` of plan `name` live again (validated again: a prompt it
    /// plays may have been removed since).
    pub fn rollback(&self, name: &str, version_id: i64, by: &str) -> Result<i64, PublishError> {
        let found = self
            .store
            .blocking(|s| s.version(version_id))
            .map_err(|e| PublishError::Io(e.to_string()))?;
        match found {
            Some((v, source)) if v.name == name => self.make_live(name, &source, "rollback", by),
            _ => Err(PublishError::NotFound(format!(
                "plan {name} has no version {version_id}"
            ))),
        }
    }

    fn make_live(
        &self,
        name: &str,
        source: &str,
        action: &str,
        by: &str,
    ) -> Result<i64, PublishError> {
        if !valid_name(name) {
            return Err(PublishError::NotFound(format!(
                "no dialplan named {name:?}"
            )));
        }
        let _live = self.lock_going_live();
        let path = self.path(name);
        let loaded = self.validate(name, source).map_err(PublishError::Invalid)?;
        if loaded.plan.name != name {
            return Err(PublishError::Invalid(DialplanError(vec![name_mismatch(
                &path,
                source,
                &loaded.plan.name,
                name,
            )])));
        }
        write_atomically(&path, source)
            .map_err(|e| PublishError::Io(format!("cannot write {}: {e}", path.display())))?;
        let plan = self.go_live(name, loaded, action, Some(by))?;
        // The file now holds what is live: the watcher must not take it for an edit.
        if let Some(e) = self.entries().get_mut(name) {
            e.seen = stamp(&path);
        }
        Ok(plan.version_id)
    }
}

/// The plan's `name = "…"` must be its file's name: calls reach it by that name.
fn name_mismatch(path: &Path, source: &str, found: &str, expected: &str) -> Diagnostic {
    let (line, text) = source
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("name"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .unwrap_or((1, String::new()));
    Diagnostic {
        file: path.to_path_buf(),
        line,
        col: 1,
        severity: Severity::Error,
        kind: ProblemKind::BadValue,
        message: format!("the plan is named {found:?} but is published as {expected:?}"),
        hint: format!("write name = {expected:?}: callers reach the plan by its file's name"),
        source_line: text,
    }
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`: a reader (or
/// a crash) never sees half a plan.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("plan.toml");
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
