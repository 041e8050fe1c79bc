//! Which dialplan a call runs: `sip:NAME@host` → `<dialplans>/NAME.toml`, loaded, validated and
//! stored as a version once per distinct source, then shared by every call on it.
//!
//! A plan whose file changed is reloaded on the next call; if the new file is invalid the last
//! good version keeps serving and the error (file:line:col) is logged.

use crate::dialplan::{load_file, LoadOptions};
use crate::engine::Program;
use crate::prompts::PromptCatalog;
use crate::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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
    modified: Option<SystemTime>,
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

/// Plans by name, reloaded when their file changes.
pub struct PlanCache {
    dir: PathBuf,
    prompts: PathBuf,
    store: Arc<Mutex<Store>>,
    plans: Mutex<HashMap<String, Arc<LoadedPlan>>>,
}

impl PlanCache {
    /// Plans from `dir`, prompts from `prompts`, versions recorded in `store`.
    pub fn new(dir: PathBuf, prompts: PathBuf, store: Arc<Mutex<Store>>) -> Self {
        PlanCache {
            dir,
            prompts,
            store,
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// The plan for a Request-URI user part.
    pub fn get(&self, name: &str) -> Result<Arc<LoadedPlan>, PlanError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(PlanError::NotFound(name.to_string()));
        }
        let path = self.dir.join(format!("{name}.toml"));
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|_| PlanError::NotFound(name.to_string()))?;
        let cached = self.plans.lock().ok().and_then(|m| m.get(name).cloned());
        if let Some(p) = &cached {
            if p.modified == Some(modified) {
                return Ok(Arc::clone(p));
            }
        }
        let opts = LoadOptions {
            prompts_dir: Some(self.prompts.clone()),
            skip_prompt_files: false,
        };
        let loaded = match load_file(&path, &opts) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(
                    "{e}\n{}: not loaded; calls keep the last good version",
                    path.display()
                );
                return cached.ok_or_else(|| PlanError::Invalid(name.to_string(), e.to_string()));
            }
        };
        let language = loaded.plan.language.code();
        let catalog = PromptCatalog::load(&self.prompts, loaded.plan.language);
        let version_id = self
            .store
            .lock()
            .map_err(|_| PlanError::Store("store lock poisoned".into()))?
            .save_version(&loaded.plan)
            .map_err(|e| PlanError::Store(e.to_string()))?
            .id;
        tracing::info!(plan = name, version_id, "dialplan loaded");
        let plan = Arc::new(LoadedPlan {
            program: Arc::new(Program::new(loaded.plan, catalog.texts().clone())),
            version_id,
            language,
            modified: Some(modified),
        });
        if let Ok(mut m) = self.plans.lock() {
            m.insert(name.to_string(), Arc::clone(&plan));
        }
        Ok(plan)
    }
}
