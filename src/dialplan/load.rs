//! Reading a dialplan: TOML → raw model → validated [`Dialplan`], collecting every problem with
//! its line and column.

use super::config::EscalationConfig;
use super::diagnostic::{Diagnostic, DialplanError, Locator, ProblemKind as K, Severity};
use super::graph::{self, GraphProblem};
use super::plan::{Choice, Dialplan, Language, Node, NodeId, NodeKind};
use super::raw::{RawChoice, RawEscalation, RawNode, RawPlan};
use crate::text::{builtin, PhraseSet};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;
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
    };
    let plan = b.build(raw, src, path);
    // Prompt files are checked even when other errors stopped the plan: report everything at once.
    if let (Some(language), false) = (b.language, opts.skip_prompt_files) {
        b.check_prompt_files(&opts.prompts_dir_for(path), language);
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

struct Builder<'a> {
    loc: &'a Locator<'a>,
    problems: Vec<Diagnostic>,
    ids: HashMap<String, NodeId>,
    prompt_refs: Vec<(String, usize)>,
    language: Option<Language>,
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
        })
    }

    fn escalation(&mut self, raw: Option<Spanned<RawEscalation>>) -> EscalationConfig {
        let raw = raw.map(Spanned::into_inner).unwrap_or_default();
        let zero_out = match &raw.zero_out {
            None => '0',
            Some(v) => self.zero_out(v).unwrap_or('0'),
        };
        let max_retries = self.small_count(raw.max_retries.as_ref(), 2, "max_retries");
        let elderly_max_retries =
            self.small_count(raw.elderly_max_retries.as_ref(), 1, "elderly_max_retries");
        let hesitation_threshold = match raw.hesitation_threshold {
            Some(t) if !(*t.get_ref() > 0.0 && *t.get_ref() <= 10.0) => {
                self.error(
                    t.span().start,
                    K::BadValue,
                    format!("hesitation_threshold {} is out of range", t.get_ref()),
                    "use a score above 0 (0.6 is the default; lower reaches a person sooner)",
                );
                0.6
            }
            Some(t) => t.into_inner(),
            None => 0.6,
        };
        let connecting_prompt = raw.connecting_prompt.map(|p| {
            self.prompt_refs.push((p.get_ref().clone(), p.span().start));
            p.into_inner()
        });
        let confirm_prompt = raw.confirm_prompt.map(|p| {
            self.prompt_refs.push((p.get_ref().clone(), p.span().start));
            p.into_inner()
        });
        EscalationConfig {
            zero_out,
            queue: raw.queue.unwrap_or_else(|| "support".into()),
            max_retries,
            elderly_max_retries: elderly_max_retries.min(max_retries),
            hesitation_threshold,
            human_phrases: raw.human_phrases,
            connecting_prompt,
            confirm_prompt,
        }
    }

    fn zero_out(&mut self, v: &Spanned<toml::Value>) -> Option<char> {
        let at = v.span().start;
        let disable_hint = "the zero-out is always on so no caller is ever trapped; you may change the key (zero_out = \"9\"), not remove it";
        match v.get_ref() {
            toml::Value::Boolean(true) => Some('0'),
            toml::Value::Boolean(false) => {
                self.error(
                    at,
                    K::ZeroOutDisabled,
                    "the zero-out cannot be switched off",
                    disable_hint,
                );
                None
            }
            toml::Value::String(s) => {
                let t = s.trim().to_ascii_lowercase();
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if is_dtmf(c) => Some(c),
                    _ if t.is_empty()
                        || ["none", "off", "no", "disabled", "false"].contains(&t.as_str()) =>
                    {
                        self.error(
                            at,
                            K::ZeroOutDisabled,
                            "the zero-out cannot be switched off",
                            disable_hint,
                        );
                        None
                    }
                    _ => {
                        self.error(
                            at,
                            K::BadValue,
                            format!("zero_out \"{s}\" is not one key"),
                            "use one key: 0-9, * or # (\"0\" is what callers expect)",
                        );
                        None
                    }
                }
            }
            other => {
                self.error(
                    at,
                    K::WrongType,
                    format!("zero_out must be a key in quotes, not {}", other.type_str()),
                    "write zero_out = \"0\"",
                );
                None
            }
        }
    }

    fn repeat_key(&mut self, v: &Spanned<toml::Value>, zero_out: char) -> Option<char> {
        let at = v.span().start;
        let toml::Value::String(s) = v.get_ref() else {
            self.error(
                at,
                K::WrongType,
                format!(
                    "repeat_key must be a key in quotes, not {}",
                    v.get_ref().type_str()
                ),
                "write repeat_key = \"*\"",
            );
            return None;
        };
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(k), None) if is_dtmf(k) && k == zero_out => {
                self.error(
                    at,
                    K::RepeatKeyReused,
                    format!("repeat_key \"{k}\" is the zero-out key"),
                    "the zero-out always reaches a person; repeat with another key (\"*\" is what callers expect)",
                );
                None
            }
            (Some(k), None) if is_dtmf(k) => Some(k),
            _ => {
                self.error(
                    at,
                    K::BadValue,
                    format!("repeat_key \"{s}\" is not one key"),
                    "use one key: 0-9, * or # (\"*\" is the default)",
                );
                None
            }
        }
    }

    fn small_count(&mut self, v: Option<&Spanned<i64>>, default: u32, key: &str) -> u32 {
        match v {
            None => default,
            Some(n) if (0..=5).contains(n.get_ref()) => *n.get_ref() as u32,
            Some(n) => {
                self.error(
                    n.span().start,
                    K::BadValue,
                    format!("{key} = {} is out of range", n.get_ref()),
                    "use 0 to 5: more re-prompts than that loops the caller instead of helping",
                );
                default
            }
        }
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

    fn node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<Node> {
        let at = name.span().start;
        let kinds: Vec<&str> = [
            ("ask", n.ask.is_some()),
            ("transfer", n.transfer.is_some()),
            ("hangup", n.hangup.is_some()),
            ("branch", n.branch.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect();
        let shape_hint = "a node does one thing: say+next, ask+choices, branch+cases+default, transfer, or hangup";
        if kinds.len() > 1 {
            self.error(
                at,
                K::NodeShape,
                format!("node \"{}\" mixes {}", name.get_ref(), kinds.join(" and ")),
                shape_hint,
            );
            return None;
        }
        let stray = |key: &str, present: bool, allowed: &[&str]| {
            (present
                && !kinds.iter().any(|k| allowed.contains(k))
                && !(kinds.is_empty() && allowed.contains(&"say")))
            .then(|| key.to_string())
        };
        let strays: Vec<String> = [
            stray("choices", n.choices.is_some(), &["ask"]),
            stray("no_match", n.no_match.is_some(), &["ask"]),
            stray("no_input", n.no_input.is_some(), &["ask"]),
            stray("no_input_seconds", n.no_input_seconds.is_some(), &["ask"]),
            stray("cases", n.cases.is_some(), &["branch"]),
            stray("default", n.default.is_some(), &["branch"]),
            stray("next", n.next.is_some(), &["say"]),
            stray("say", n.say.is_some() && kinds == ["branch"], &[]),
            stray("say", n.say.is_some() && kinds == ["ask"], &[]),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !strays.is_empty() {
            let kind = kinds.first().copied().unwrap_or("say");
            self.error(
                at,
                K::NodeShape,
                format!(
                    "node \"{}\" is a {kind} node but also has {}",
                    name.get_ref(),
                    strays.join(", ")
                ),
                shape_hint,
            );
            return None;
        }
        let set = n.set.clone().unwrap_or_default().into_iter().collect();
        let kind = match kinds.first().copied() {
            Some("ask") => self.ask_node(name, n, esc, repeat_key)?,
            Some("transfer") => NodeKind::Transfer {
                prompt: self.prompt(&n.say),
                queue: n.transfer.as_ref()?.get_ref().clone(),
            },
            Some("hangup") => {
                let h = n.hangup.as_ref()?;
                if !*h.get_ref() {
                    self.error(
                        h.span().start,
                        K::BadValue,
                        "hangup = false does nothing",
                        "remove the key, or write hangup = true to end the call here",
                    );
                    return None;
                }
                NodeKind::Hangup {
                    prompt: self.prompt(&n.say),
                }
            }
            Some(_) => self.branch_node(name, n)?,
            None => {
                match &n.next {
                    Some(next) => {
                        let prompt = self.prompt(&n.say);
                        NodeKind::Say {
                            prompt,
                            next: self.node_ref(next, "next", K::MissingNode)?,
                        }
                    }
                    None => {
                        self.error(at, K::NodeShape, format!("node \"{}\" does not say where to go", name.get_ref()), "add next = \"NODE\" (or make it an ask, branch, transfer or hangup node)");
                        return None;
                    }
                }
            }
        };
        Some(Node {
            name: name.get_ref().clone(),
            set,
            kind,
        })
    }

    fn ask_node(
        &mut self,
        name: &Spanned<String>,
        n: &RawNode,
        esc: &EscalationConfig,
        repeat_key: char,
    ) -> Option<NodeKind> {
        let prompt = self.prompt(&n.ask)?;
        let raw_choices = match &n.choices {
            Some(c) if !c.is_empty() => c,
            _ => {
                self.error(
                    name.span().start,
                    K::NodeShape,
                    format!("ask node \"{}\" has no choices", name.get_ref()),
                    "add choices = [{ dtmf = \"1\", words = [\"...\"], go = \"NODE\" }]",
                );
                return None;
            }
        };
        let human = PhraseSet::new(
            builtin().human.iter().chain(&esc.human_phrases),
            Default::default(),
        );
        let mut digits: BTreeMap<char, usize> = BTreeMap::new();
        let mut choices = Vec::new();
        let mut ok = true;
        for (i, c) in raw_choices.iter().enumerate() {
            let keys = Keys {
                zero_out: esc.zero_out,
                repeat: repeat_key,
            };
            match self.choice(i, c, keys, &mut digits, &human) {
                Some(choice) => choices.push(choice),
                None => ok = false,
            }
        }
        let no_input_after = match &n.no_input_seconds {
            Some(s) if !(1.0..=60.0).contains(s.get_ref()) => {
                self.error(
                    s.span().start,
                    K::BadValue,
                    format!("no_input_seconds = {} is out of range", s.get_ref()),
                    "use 1 to 60 seconds",
                );
                None
            }
            Some(s) => Some(Duration::from_secs_f64(*s.get_ref())),
            None => None,
        };
        let no_match = self.prompt(&n.no_match);
        let no_input = self.prompt(&n.no_input);
        ok.then_some(NodeKind::Ask {
            prompt,
            choices,
            no_match,
            no_input,
            no_input_after,
        })
    }

    fn choice(
        &mut self,
        i: usize,
        c: &RawChoice,
        keys: Keys,
        digits: &mut BTreeMap<char, usize>,
        human: &PhraseSet,
    ) -> Option<Choice> {
        let go = self.node_ref(&c.go, "go", K::MissingNode);
        let mut dtmf = None;
        if let Some(d) = &c.dtmf {
            let at = d.span().start;
            let mut chars = d.get_ref().chars();
            match (chars.next(), chars.next()) {
                (Some(k), None) if is_dtmf(k) => {
                    if k == keys.repeat {
                        self.error(
                            at,
                            K::RepeatKeyReused,
                            format!("choice {} uses \"{k}\", the repeat key", i + 1),
                            format!(
                                "\"{k}\" replays the question at every node; give this choice another key, or choose another repeat key at the top of the plan (repeat_key = \"#\")"
                            ),
                        );
                        return None;
                    }
                    if k == keys.zero_out {
                        self.error(
                            at,
                            K::ZeroOutReused,
                            format!("choice {} uses \"{k}\", the zero-out key", i + 1),
                            format!(
                                "\"{k}\" always reaches a person; give this choice another key"
                            ),
                        );
                        return None;
                    }
                    if let Some(prev) = digits.insert(k, i) {
                        self.error(
                            at,
                            K::DuplicateDigit,
                            format!(
                                "choice {} uses key \"{k}\", already used by choice {}",
                                i + 1,
                                prev + 1
                            ),
                            "give each choice of a node its own key",
                        );
                        return None;
                    }
                    dtmf = Some(k);
                }
                _ => {
                    self.error(
                        at,
                        K::BadValue,
                        format!("dtmf \"{}\" is not one key", d.get_ref()),
                        "use one key: 0-9, * or #",
                    );
                    return None;
                }
            }
        }
        if dtmf.is_none() && c.words.is_empty() {
            self.error(
                c.go.span().start,
                K::NodeShape,
                format!("choice {} has neither dtmf nor words", i + 1),
                "add dtmf = \"N\" and/or words = [\"...\"] so a caller can pick it",
            );
            return None;
        }
        for w in &c.words {
            if let Some(m) = human.best(w.get_ref()) {
                self.warn(w.span().start, K::ShadowedHumanRequest, format!("\"{}\" asks for a person (\"{}\"): the caller is transferred before this choice is considered", w.get_ref(), m.phrase), "remove the word; asking for a person always transfers");
            }
        }
        Some(Choice {
            dtmf,
            words: c.words.iter().map(|w| w.get_ref().clone()).collect(),
            go: go?,
            set: c.set.clone().unwrap_or_default().into_iter().collect(),
        })
    }

    fn branch_node(&mut self, name: &Spanned<String>, n: &RawNode) -> Option<NodeKind> {
        let var = n.branch.as_ref()?.get_ref().clone();
        let Some(default) = &n.default else {
            self.error(
                name.span().start,
                K::NodeShape,
                format!("branch node \"{}\" has no default", name.get_ref()),
                "add default = \"NODE\" for values no case names (and for an unset variable)",
            );
            return None;
        };
        let default = self.node_ref(default, "default", K::MissingNode);
        let mut cases = Vec::new();
        for (value, target) in n.cases.clone().unwrap_or_default() {
            cases.push((value, self.node_ref(&target, "case", K::MissingNode)));
        }
        let cases: Option<Vec<_>> = cases.into_iter().map(|(v, t)| t.map(|t| (v, t))).collect();
        Some(NodeKind::Branch {
            var,
            cases: cases?,
            default: default?,
        })
    }

    fn graph_problem(&mut self, p: &GraphProblem, nodes: &[Node], spans: &[usize]) {
        let names = |path: &[NodeId]| {
            path.iter()
                .map(|n| nodes[n.0].name.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        match p {
            GraphProblem::Unreachable(id) => self.error(
                spans[id.0],
                K::Unreachable,
                format!(
                    "node \"{}\" is unreachable: no path from the start leads to it",
                    nodes[id.0].name
                ),
                "point a next, go, case or default at it, or delete it",
            ),
            GraphProblem::SilentLoop(cycle) => {
                let mut shown = cycle.clone();
                shown.push(cycle[0]);
                self.error(
                    spans[cycle[0].0],
                    K::SilentLoop,
                    format!("loop that never waits for the caller: {}", names(&shown)),
                    "put an ask node in the loop, or send one of its nodes elsewhere",
                );
            }
            GraphProblem::NoHuman(path) => {
                let last = path[path.len() - 1];
                self.error(spans[last.0], K::NoHuman, format!("from the start no human can be reached: the call hangs up along {} without ever listening to the caller", names(path)), "ask the caller something (an ask node) or transfer them before any hangup");
            }
        }
    }

    fn check_tables(
        &mut self,
        src: &str,
        t: &super::TimingConfig,
        h: &super::HesitationConfig,
        m: &crate::text::MatchConfig,
    ) {
        let table_at = |name: &str| src.find(&format!("[{name}]")).unwrap_or(0);
        const SECONDS: &str = "use a number of seconds above 0 (and at most 120)";
        // (table, key, value, allowed range, hint)
        let ranges = [
            (
                "timing",
                "no_input_seconds",
                t.no_input_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "timing",
                "endpoint_silence_seconds",
                t.endpoint_silence_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "timing",
                "elderly_no_input_seconds",
                t.elderly_no_input_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "timing",
                "elderly_endpoint_silence_seconds",
                t.elderly_endpoint_silence_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "hesitation",
                "delay_seconds",
                h.delay_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "hesitation",
                "long_pause_seconds",
                h.long_pause_seconds,
                0.01..=120.0,
                SECONDS,
            ),
            (
                "hesitation",
                "decay",
                h.decay,
                0.0..=1.0,
                "use 0 (forget each turn) to 1 (never forget)",
            ),
            (
                "matching",
                "similarity",
                m.similarity,
                0.5..=1.0,
                "use 0.5 to 1.0 (0.8 is the default; 1.0 is exact)",
            ),
        ];
        for (table, key, v, range, hint) in ranges {
            if !range.contains(&v) {
                self.error(
                    table_at(table),
                    K::BadValue,
                    format!("{table}.{key} = {v} is out of range"),
                    hint,
                );
            }
        }
        if t.elderly_no_input_seconds < t.no_input_seconds
            || t.elderly_endpoint_silence_seconds < t.endpoint_silence_seconds
        {
            self.error(table_at("timing"), K::BadValue, "elderly windows are shorter than the normal ones", "elderly_* values must be at least the normal ones: slow callers get more time, never less");
        }
    }

    fn check_prompt_files(&mut self, dir: &Path, language: Language) {
        let refs = std::mem::take(&mut self.prompt_refs);
        for (name, at) in refs {
            let file = dir.join(language.code()).join(format!("{name}.wav"));
            if name.contains(['/', '\\']) || name.starts_with('.') {
                self.error(
                    at,
                    K::BadValue,
                    format!("prompt name \"{name}\" is not a plain name"),
                    "use a file name without folders, e.g. \"welcome\" for prompts/en/welcome.wav",
                );
            } else if !file.is_file() {
                self.error(at, K::MissingPrompt, format!("prompt \"{name}\" has no file {}", file.display()), format!("add prompts/{}/{name}.txt and run scripts/make-prompts.sh, or record the WAV (8 kHz mono 16-bit)", language.code()));
            } else if let Err(why) = crate::prompts::check_wav(&file) {
                self.error(
                    at,
                    K::BadPrompt,
                    format!("prompt file {} {why}", file.display()),
                    "convert it: sox in.wav -r 8000 -c 1 -e signed -b 16 out.wav",
                );
            }
        }
    }
}

/// The repeat key when a plan names none.
const DEFAULT_REPEAT_KEY: char = '*';

/// The keys that work at every node, which no choice may take.
#[derive(Clone, Copy)]
struct Keys {
    zero_out: char,
    repeat: char,
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
