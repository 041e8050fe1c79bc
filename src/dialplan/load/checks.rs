//! Whole-plan checks reported as diagnostics: the graph, the tunable tables, the prompt files.

use super::{Builder, K};
use crate::dialplan::graph::GraphProblem;
use crate::dialplan::plan::{Language, Node, NodeId};
use std::path::Path;

impl Builder<'_> {
    pub(super) fn graph_problem(&mut self, p: &GraphProblem, nodes: &[Node], spans: &[usize]) {
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
            GraphProblem::FailureWithoutHuman { node, path } => {
                self.error(
                    spans[node.0],
                    K::FailureWithoutHuman,
                    format!(
                        "the failure path of \"{}\" ends the call without a person: {}",
                        nodes[node.0].name,
                        names(path)
                    ),
                    "a caller whose entry or lookup failed must reach a person: point failure at a transfer or an ask node, or remove it (a person takes over then)",
                );
            }
            GraphProblem::NoHuman(path) => {
                let last = path[path.len() - 1];
                self.error(spans[last.0], K::NoHuman, format!("from the start no human can be reached: the call hangs up along {} without ever listening to the caller", names(path)), "ask the caller something (an ask node) or transfer them before any hangup");
            }
        }
    }

    pub(super) fn check_tables(
        &mut self,
        src: &str,
        t: &crate::dialplan::TimingConfig,
        h: &crate::dialplan::HesitationConfig,
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
        if !(0.5..=30.0).contains(&t.inter_digit_seconds) {
            self.error(
                table_at("timing"),
                K::BadValue,
                format!(
                    "timing.inter_digit_seconds = {} is out of range",
                    t.inter_digit_seconds
                ),
                "use 0.5 to 30 seconds (3 is the default)",
            );
        }
        if t.type_ahead_keys > 32 {
            self.error(
                table_at("timing"),
                K::BadValue,
                format!(
                    "timing.type_ahead_keys = {} is out of range",
                    t.type_ahead_keys
                ),
                "use 0 (off) to 32 keys (8 is the default)",
            );
        }
        if t.elderly_no_input_seconds < t.no_input_seconds
            || t.elderly_endpoint_silence_seconds < t.endpoint_silence_seconds
        {
            self.error(table_at("timing"), K::BadValue, "elderly windows are shorter than the normal ones", "elderly_* values must be at least the normal ones: slow callers get more time, never less");
        }
    }

    pub(super) fn check_prompt_files(&mut self, dir: &Path, languages: &[Language]) {
        self.check_zero_out_announced(dir, languages);
        let refs = std::mem::take(&mut self.prompt_refs);
        for (name, at) in refs {
            if name.contains(['/', '\\']) || name.starts_with('.') {
                self.error(
                    at,
                    K::BadValue,
                    format!("prompt name \"{name}\" is not a plain name"),
                    "use a file name without folders, e.g. \"welcome\" for prompts/en/welcome.wav",
                );
                continue;
            }
            // A plan that switches language plays every prompt in each of its languages.
            for language in languages {
                let file = dir.join(language.code()).join(format!("{name}.wav"));
                let txt = dir.join(language.code()).join(format!("{name}.txt"));
                let spoken = std::fs::read_to_string(&txt).is_ok_and(|t| t.contains('{'));
                if spoken {
                    // Spoken at run time with the call's values: a text, no WAV.
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
                self.check_placeholders(&dir.join(language.code()), &name, at);
            }
        }
    }

    /// A prompt text with placeholders ("{balance:money}") may only name variables some node
    /// sets, with a kind the engine knows.
    fn check_placeholders(&mut self, dir: &Path, name: &str, at: usize) {
        let txt = dir.join(format!("{name}.txt"));
        let Ok(text) = std::fs::read_to_string(&txt) else {
            return;
        };
        if !text.contains('{') {
            return;
        }
        match crate::text::spoken::placeholders(&text) {
            Err(why) => self.error(
                at,
                K::BadPlaceholder,
                format!("prompt \"{name}\" ({}): {why}", txt.display()),
                "write placeholders as {name} or {name:kind}; kinds: number, money, digits, date, time, text",
            ),
            Ok(list) => {
                for p in list {
                    if !self.vars_set.contains(&p.var) {
                        self.error(
                            at,
                            K::BadPlaceholder,
                            format!("prompt \"{name}\" says {{{}}}, but no node sets \"{}\" ({})", p.var, p.var, txt.display()),
                            format!("set it before the prompt plays (set = {{ {} = \"…\" }}, a collect var or a lookup field), or fix the name in the prompt text", p.var),
                        );
                    }
                }
            }
        }
    }

    /// A collect prompt must say how to reach a person while keying digits (`*0`): its text
    /// names the star key ("star", "*", "星号"). A warning: the text file may be missing or
    /// worded otherwise, but a caller who is not told is trapped in practice.
    fn check_zero_out_announced(&mut self, dir: &Path, languages: &[Language]) {
        for (prompt, at, keys) in std::mem::take(&mut self.zero_out_announced) {
            for language in languages {
                let txt = dir.join(language.code()).join(format!("{prompt}.txt"));
                let Ok(text) = std::fs::read_to_string(&txt) else {
                    continue;
                };
                let lower = text.to_lowercase();
                let star = ["star", "*", "星", "asterisk"]
                    .iter()
                    .any(|w| lower.contains(w));
                if !star {
                    self.warn(
                        at,
                        K::ZeroOutNotAnnounced,
                        format!("collect prompt \"{prompt}\" ({}) does not tell callers that {keys} reaches a person here", txt.display()),
                        format!("0 is a digit while keying; say it in the prompt: \"To reach a person at any time, press star, then zero.\" ({keys})"),
                    );
                }
            }
        }
    }
}
