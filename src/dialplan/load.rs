//! Reading a dialplan: TOML → raw model → validated [`Dialplan`], collecting every problem with
//! its line and column.

//!
//! `keys` reads the plan-wide keys and `[escalation]`, `nodes` each node table, `checks` the
//! whole-plan rules (graph, tables, prompt files).

mod checks;
mod collect;
mod hours;
mod keys;
mod lookup;
mod nodes;

use super::diagnostic::{Diagnostic, DialplanError, Locator, ProblemKind as K, Severity};
use super::graph;
use super::plan::{Dialplan, Language, Node, NodeId};
use super::raw::RawPlan;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where prompts live and whether to check them.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Folder holding `<language>/<prompt>.wav`. Default: `prompts/` beside the plan's folder.
    pub prompts_dir: Option<PathBuf>,
    /// Skip the prompt-file check (for plans checked away from their prompts).
    pub skip_prompt_files: bool,
}

impl LoadOptions {
    /// The schedules folder for a plan at `plan_path`: `schedules/` beside the prompts folder.
    pub fn schedules_dir_for(&self, plan_path: &Path) -> PathBuf {
        let prompts = self.prompts_dir_for(plan_path);
        prompts.parent().unwrap_or(Path::new(".")).join("schedules")
    }

    /// The prompts folder used for a plan at `plan_path`.
    pub fn prompts_dir_for(&self, plan_path: &Path) -> PathBuf {
        self.prompts_dir.clone().unwrap_or_else(|| {
            plan_path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new("."))
                .join("prompts")
        })
    }
}

/// A plan that passed every check, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The runnable plan.
    pub plan: Dialplan,
    /// Problems that do not stop the plan from running.
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates the plan at `path`.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Loaded, DialplanError> {
    match std::fs::read_to_string(path) {
        Ok(src) => load_str(&src, path, opts),
        Err(e) => Err(DialplanError(vec![Diagnostic {
            file: path.to_path_buf(),
            line: 1,
            col: 1,
            severity: Severity::Error,
            kind: K::Syntax,
            message: format!("cannot read the dialplan: {e}"),
            hint: "check the path and that the file is readable UTF-8 text".into(),
            source_line: String::new(),
        }])),
    }
}

/// Validates plan source `src`; `path` names it in diagnostics and locates its prompts.
pub fn load_str(src: &str, path: &Path, opts: &LoadOptions) -> Result<Loaded, DialplanError> {
    let loc = Locator::new(path.to_path_buf(), src);
    let raw: RawPlan =
        toml::from_str(src).map_err(|e| DialplanError(vec![toml_problem(&loc, &e)]))?;
    let mut b = Builder {
        loc: &loc,
        problems: Vec::new(),
        ids: HashMap::new(),
        prompt_refs: Vec::new(),
        language: None,
        inter_digit_default: 3.0,
        vars_set: ["caller".to_string()].into_iter().collect(),
        var_refs: Vec::new(),
        zero_out_announced: Vec::new(),
        languages: Vec::new(),
        schedules_dir: opts.schedules_dir_for(path),
        schedules: Default::default(),
    };
    let plan = b.build(raw, src, path);
    // Prompt files are checked even when other errors stopped the plan: report everything at once.
    if let (Some(language), false) = (b.language, opts.skip_prompt_files) {
        let mut languages = vec![language];
        languages.extend(b.languages.iter().filter(|l| **l != language));
        b.check_prompt_files(&opts.prompts_dir_for(path), &languages);
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = b
        .problems
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    match plan {
        Some(plan) if errors.is_empty() => Ok(Loaded { plan, warnings }),
        _ => {
            let mut all = errors;
            all.extend(warnings);
            all.sort_by_key(|d| (d.line, d.col));
            Err(DialplanError(all))
        }
    }
}

/// Turns a TOML/serde error into a located diagnostic of the right kind.
fn toml_problem(loc: &Locator<'_>, e: &toml::de::Error) -> Diagnostic {
    let msg = e.message().trim().to_string();
    let offset = e.span().map(|s| s.start).unwrap_or(0);
    let (kind, hint) = if msg.starts_with("unknown field") {
        (
            K::UnknownKey,
            "remove the key or fix its spelling; the README's 'Dialplan language' lists every key",
        )
    } else if msg.starts_with("invalid type") {
        (
            K::WrongType,
            "write the value with the type shown (text in quotes, numbers bare, true/false, [lists])",
        )
    } else if msg.starts_with("missing field") {
        (
            K::MissingKey,
            "add the key; every plan needs name, language, start and [nodes.*]",
        )
    } else if msg.starts_with("invalid value") || msg.starts_with("unknown variant") {
        (K::BadValue, "use one of the values the message lists")
    } else {
        (
            K::Syntax,
            "fix the TOML syntax here: strings need quotes, tables are [name], pairs are key = value",
        )
    };
    loc.error(offset, kind, msg, hint)
}

pub(super) struct Builder<'a> {
    loc: &'a Locator<'a>,
    problems: Vec<Diagnostic>,
    ids: HashMap<String, NodeId>,
    prompt_refs: Vec<(String, usize)>,
    language: Option<Language>,
    /// `[timing] inter_digit_seconds`, the default of every collect node.
    inter_digit_default: f64,
    /// Variables some node sets (set tables, choices, collect vars): what placeholders in
    /// prompt texts may name, with the built-in `caller`.
    vars_set: std::collections::BTreeSet<String>,
    /// Variables named by lookup templates, with where: checked once every node is read.
    var_refs: Vec<(String, usize)>,
    /// Collect prompts that must announce the zero-out inside an entry: (prompt, where, keys).
    zero_out_announced: Vec<(String, usize, String)>,
    /// Languages language nodes switch to (prompt files are checked in each).
    languages: Vec<Language>,
    /// Where `schedules/NAME.toml` files are read from.
    schedules_dir: PathBuf,
    /// Schedules read so far, by name.
    schedules: std::collections::BTreeMap<String, super::hours::Schedule>,
}

impl Builder<'_> {
    fn error(&mut self, at: usize, kind: K, message: impl Into<String>, hint: impl Into<String>) {
        self.problems.push(self.loc.error(at, kind, message, hint));
    }

    fn warn(&mut self, at: usize, kind: K, message: impl Into<String>, hint: impl Into<String>) {
        self.problems
            .push(self.loc.at(at, Severity::Warning, kind, message, hint));
    }

    fn build(&mut self, raw: RawPlan, src: &str, path: &Path) -> Option<Dialplan> {
        let language = match raw.language.get_ref().as_str() {
            "en" => Some(Language::En),
            "zh" => Some(Language::Zh),
            other => {
                self.error(
                    raw.language.span().start,
                    K::BadValue,
                    format!("unknown language \"{other}\""),
                    "use \"en\" (English) or \"zh\" (Mandarin)",
                );
                None
            }
        };
        self.language = language;
        let nodes_span = raw.nodes.span().start;
        let raw_nodes = raw.nodes.into_inner();
        if raw_nodes.is_empty() {
            self.error(
                nodes_span,
                K::MissingKey,
                "the plan has no nodes",
                "add at least one [nodes.NAME] table",
            );
        }
        for (i, name) in raw_nodes.keys().enumerate() {
            self.ids.insert(name.get_ref().clone(), NodeId(i));
        }
        self.inter_digit_default = raw.timing.inter_digit_seconds;
        let escalation = self.escalation(raw.escalation);
        let repeat_key = match &raw.repeat_key {
            None => DEFAULT_REPEAT_KEY,
            Some(v) => self
                .repeat_key(v, escalation.zero_out)
                .unwrap_or(DEFAULT_REPEAT_KEY),
        };
        let start = self.node_ref(&raw.start, "start", K::MissingStart);
        let mut nodes = Vec::with_capacity(raw_nodes.len());
        let mut spans = Vec::with_capacity(raw_nodes.len());
        for (name, node) in &raw_nodes {
            spans.push(name.span().start);
            nodes.push(self.node(name, node, &escalation, repeat_key));
        }
        self.check_tables(src, &raw.timing, &raw.hesitation, &raw.matching);
        for (var, at) in std::mem::take(&mut self.var_refs) {
            if !self.vars_set.contains(&var) {
                self.error(
                    at,
                    K::BadPlaceholder,
                    format!("{{{var}}} names a variable no node sets"),
                    format!("set \"{var}\" before this node (set = {{ {var} = \"…\" }}, a collect var, a lookup field, or the built-in caller), or fix the name"),
                );
            }
        }
        let nodes: Option<Vec<Node>> = nodes.into_iter().collect();
        let (nodes, start, language) = (nodes?, start?, language?);
        for problem in graph::check(&nodes, start) {
            self.graph_problem(&problem, &nodes, &spans);
        }
        Some(Dialplan {
            name: raw.name.into_inner(),
            language,
            description: raw.description,
            start,
            repeat_key,
            nodes,
            escalation,
            timing: raw.timing,
            hesitation: raw.hesitation,
            matching: raw.matching,
            source_path: path.to_path_buf(),
            sha256: hex(&Sha256::digest(src.as_bytes())),
            source: src.to_string(),
            schedules: std::mem::take(&mut self.schedules),
        })
    }

    fn node_ref(&mut self, r: &Spanned<String>, what: &str, kind: K) -> Option<NodeId> {
        if let Some(id) = self.ids.get(r.get_ref()) {
            return Some(*id);
        }
        let hint = match self.closest(r.get_ref()) {
            Some(c) => format!(
                "did you mean \"{c}\"? Otherwise add a [nodes.{}] table",
                r.get_ref()
            ),
            None => format!(
                "add a [nodes.{}] table or point {what} at an existing node",
                r.get_ref()
            ),
        };
        self.error(
            r.span().start,
            kind,
            format!(
                "{what} refers to node \"{}\", which does not exist",
                r.get_ref()
            ),
            hint,
        );
        None
    }

    fn closest(&self, name: &str) -> Option<String> {
        self.ids
            .keys()
            .map(|k| (strsim::normalized_levenshtein(k, name), k))
            .filter(|(s, _)| *s >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k.clone())
    }

    fn prompt(&mut self, p: &Option<Spanned<String>>) -> Option<String> {
        p.as_ref().map(|p| {
            self.prompt_refs.push((p.get_ref().clone(), p.span().start));
            p.get_ref().clone()
        })
    }
}

/// The repeat key when a plan names none.
const DEFAULT_REPEAT_KEY: char = '*';

/// The keys that work at every node, which no choice may take.
#[derive(Clone, Copy)]
pub(super) struct Keys {
    pub(super) zero_out: char,
    pub(super) repeat: char,
}

pub(super) fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
