//! Live dialplans: which version of each plan new calls get, how a new version goes live, and
//! how an old one comes back.
//!
//! ```text
//!  dialplans/NAME.toml ──(watcher, or the next call)──┐
//!  operator page: publish(source) / rollback(id) ─────┼──► validate ──► store version ──► live
//!                                                     │        │ invalid: the live version stays,
//!                                                     │        └ the error (file:line) is kept and logged
//!  a new call: get(NAME) ◄── Arc<LoadedPlan> ─────────┘
//! ```
//!
//! A call holds the `Arc` of the version it started on, so publishing never changes a call in
//! progress; new calls get the new version. Every version is stored once (by hash), and every
//! time one goes live is logged with who did it. Publishing writes the plan file too (atomically),
//! so the file on disk and the live version never disagree after a restart.
//!
//! Owns: the cache of live plans, their files' stamps, the last reload error per plan.
//! Must not touch: calls, sockets, HTTP.

mod diff;
mod publish;
pub mod switch;
mod watch;

pub use diff::{diff_lines, DiffLine};
pub use publish::PublishError;

use crate::dialplan::{load_str, LoadOptions, Loaded};
use crate::engine::Program;
use crate::prompts::PromptCatalog;
use crate::store::StoreHandle;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// A plan ready to run.
#[derive(Debug)]
pub struct LoadedPlan {
    /// The compiled plan.
    pub program: Arc<Program>,
    /// Its row in `dialplan_versions`.
    pub version_id: i64,
    /// `en` or `zh`: the prompt folder.
    pub language: &'static str,
}

/// Why no plan could be had for a name.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// No such file, or a name that cannot be a plan.
    #[error("no dialplan named {0:?}")]
    NotFound(String),
    /// The file exists but does not validate, and no earlier version is loaded.
    #[error("dialplan {0} is invalid:\n{1}")]
    Invalid(String, String),
    /// The store refused the version.
    #[error("cannot store dialplan version: {0}")]
    Store(String),
}

/// What the operator page shows about one plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanStatus {
    /// Plan (file) name.
    pub name: String,
    /// `en` or `zh`, when a version is live.
    pub language: Option<&'static str>,
    /// The live version's row id.
    pub live_version_id: Option<i64>,
    /// The live version's SHA-256.
    pub live_sha256: Option<String>,
    /// The last failed reload of the file (`file:line:col: error: …`), until a good version
    /// replaces it.
    pub reload_error: Option<String>,
}

/// Size and modification time of a plan file: a change in either is an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok()?,
        len: m.len(),
    })
}

/// One plan's state.
#[derive(Debug, Default)]
struct Entry {
    live: Option<Arc<LoadedPlan>>,
    /// The file as it was when last read (good or bad), so a bad file is reported once.
    seen: Option<Stamp>,
    error: Option<String>,
}

/// Plans by name: the live version of each, reloaded when its file changes.
pub struct PlanCache {
    dir: PathBuf,
    prompts: PathBuf,
    store: StoreHandle,
    plans: Mutex<HashMap<String, Entry>>,
    /// Held while a version goes live (publish, rollback, reload), so two of them never
    /// interleave their file writes and cache updates.
    going_live: Mutex<()>,
    /// The emergency "closed now" switch.
    switch: switch::LineSwitch,
}

/// Whether `name` can be a plan: what a Request-URI user part or a file stem may be.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl PlanCache {
    /// Plans from `dir`, prompts from `prompts`, versions recorded in `store`.
    pub fn new(dir: PathBuf, prompts: PathBuf, store: StoreHandle) -> Self {
        PlanCache {
            dir,
            prompts,
            switch: switch::LineSwitch::new(store.clone()),
            store,
            plans: Mutex::new(HashMap::new()),
            going_live: Mutex::new(()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }

    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            prompts_dir: Some(self.prompts.clone()),
            skip_prompt_files: false,
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_going_live(&self) -> MutexGuard<'_, ()> {
        self.going_live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Validates `source` as plan `name` (its prompts checked in the prompts folder), exactly
    /// as `humanline check` would; diagnostics name the plan's file.
    pub fn validate(
        &self,
        name: &str,
        source: &str,
    ) -> Result<Loaded, crate::dialplan::DialplanError> {
        load_str(source, &self.path(name), &self.load_options())
    }

    /// The prompt texts of a language (for the engine's transcripts and the simulator).
    pub fn catalog(&self, language: crate::dialplan::Language) -> PromptCatalog {
        PromptCatalog::load(&self.prompts, language)
    }

    /// The plan names in the folder (`NAME.toml`), sorted.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        let p = e.path();
                        (p.extension()? == "toml")
                            .then(|| p.file_stem()?.to_str().map(str::to_string))
                            .flatten()
                    })
                    .filter(|n| valid_name(n))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The live plan for a Request-URI user part: the cached version, or the file read again
    /// when it changed since (a bad file leaves the last good version live).
    pub fn get(&self, name: &str) -> Result<Arc<LoadedPlan>, PlanError> {
        if !valid_name(name) {
            return Err(PlanError::NotFound(name.to_string()));
        }
        let now = stamp(&self.path(name)).ok_or_else(|| PlanError::NotFound(name.to_string()))?;
        {
            let plans = self.entries();
            if let Some(Entry {
                live: Some(p),
                seen: Some(s),
                ..
            }) = plans.get(name)
            {
                if *s == now {
                    return Ok(Arc::clone(p));
                }
            }
        }
        self.reload(name)
    }

    /// Reads the file of `name` again if it changed since it was last read, and makes it live
    /// when it is valid. Returns the live plan (new or old).
    pub fn reload(&self, name: &str) -> Result<Arc<LoadedPlan>, PlanError> {
        let _live = self.lock_going_live();
        let path = self.path(name);
        let now = stamp(&path).ok_or_else(|| PlanError::NotFound(name.to_string()))?;
        let (live, seen, error) = {
            let plans = self.entries();
            let e = plans.get(name);
            (
                e.and_then(|e| e.live.clone()),
                e.and_then(|e| e.seen),
                e.and_then(|e| e.error.clone()),
            )
        };
        if seen == Some(now) {
            return live
                .ok_or_else(|| PlanError::Invalid(name.to_string(), error.unwrap_or_default()));
        }
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        let result = self.validate(name, &source);
        let mut plans = self.entries();
        let entry = plans.entry(name.to_string()).or_default();
        entry.seen = Some(now);
        match result {
            Err(e) => {
                let text = e.to_string();
                tracing::error!(
                    "{text}\n{}: not loaded; calls keep the last good version",
                    path.display()
                );
                entry.error = Some(text.clone());
                entry
                    .live
                    .clone()
                    .ok_or(PlanError::Invalid(name.to_string(), text))
            }
            Ok(loaded) => {
                entry.error = None;
                if let Some(p) = &entry.live {
                    if p.program.plan.sha256 == loaded.plan.sha256 {
                        return Ok(Arc::clone(p));
                    }
                }
                let action = if entry.live.is_some() {
                    "file"
                } else {
                    "startup"
                };
                drop(plans);
                self.go_live(name, loaded, action, None)
            }
        }
    }

    /// Stores `loaded` as a version and makes it the one new calls of `name` get. The caller
    /// holds `going_live`.
    fn go_live(
        &self,
        name: &str,
        loaded: Loaded,
        action: &str,
        by: Option<&str>,
    ) -> Result<Arc<LoadedPlan>, PlanError> {
        let language = loaded.plan.language;
        let catalog = self.catalog(language);
        // Callers are off the async threads (the watcher's and the operator's blocking tasks).
        let version_id = self
            .store
            .blocking(|store| {
                let id = store.save_version(&loaded.plan)?.id;
                // A restart on the same file is not a new publication.
                let again =
                    action == "startup" && store.last_published(name).ok().flatten() == Some(id);
                if !again {
                    store.record_publication(name, id, action, by)?;
                }
                Ok(id)
            })
            .map_err(|e| PlanError::Store(e.to_string()))?;
        tracing::info!(plan = name, version_id, action, "dialplan live");
        let plan = Arc::new(LoadedPlan {
            program: Arc::new(match loaded.plan.languages().len() {
                1 => Program::new(loaded.plan, catalog.texts().clone()),
                _ => crate::prompts::program(loaded.plan, &self.prompts),
            }),
            version_id,
            language: language.code(),
        });
        let mut plans = self.entries();
        let entry = plans.entry(name.to_string()).or_default();
        entry.live = Some(Arc::clone(&plan));
        entry.error = None;
        Ok(plan)
    }

    /// What the operator page shows about `name`.
    pub fn status(&self, name: &str) -> PlanStatus {
        let plans = self.entries();
        let e = plans.get(name);
        let live = e.and_then(|e| e.live.as_ref());
        PlanStatus {
            name: name.to_string(),
            language: live.map(|p| p.language),
            live_version_id: live.map(|p| p.version_id),
            live_sha256: live.map(|p| p.program.plan.sha256.clone()),
            reload_error: e.and_then(|e| e.error.clone()),
        }
    }

    /// The store the versions live in.
    pub fn store(&self) -> &StoreHandle {
        &self.store
    }

    /// The line's emergency "closed now" switch.
    pub fn switch(&self) -> &switch::LineSwitch {
        &self.switch
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn plan_names_are_safe_as_request_uri_users_and_file_stems() {
        assert!(valid_name("support_zh"));
        assert!(valid_name("night-line2"));
        assert!(!valid_name(""));
        assert!(!valid_name("a@b"));
        assert!(!valid_name("../etc"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}
