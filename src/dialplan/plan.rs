//! The validated dialplan the engine runs: nodes are indexed, references resolved, values typed.

use super::config::{EscalationConfig, HesitationConfig, TimingConfig};
use crate::text::MatchConfig;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// Index of a node in [`Dialplan::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NodeId(pub usize);

/// Language of a plan: picks prompts, phrase sets and the recogniser's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// Mandarin Chinese.
    Zh,
}

impl Language {
    /// The language of a code (`en`, `zh`).
    pub fn from_code(code: &str) -> Option<Language> {
        match code {
            "en" => Some(Language::En),
            "zh" => Some(Language::Zh),
            _ => None,
        }
    }

    /// The code used in files and folders (`en`, `zh`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

/// A runnable dialplan. Built only by [`super::load_str`] / [`super::load_file`], so every
/// reference in it resolves and every rule of `humanline check` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Dialplan {
    /// Plan name (`support`).
    pub name: String,
    /// Language of prompts and speech.
    pub language: Language,
    /// Free text for operators.
    pub description: Option<String>,
    /// First node of every call.
    pub start: NodeId,
    /// The key that replays the question at any node (default `*`). Never counted as a retry,
    /// a no-match or hesitation; no choice may use it.
    pub repeat_key: char,
    /// All nodes; [`NodeId`] indexes this.
    pub nodes: Vec<Node>,
    /// Global escalation rules.
    pub escalation: EscalationConfig,
    /// Listening windows.
    pub timing: TimingConfig,
    /// Hesitation signals and weights.
    pub hesitation: HesitationConfig,
    /// Fuzzy matching tolerance.
    pub matching: MatchConfig,
    /// Where the plan was read from.
    pub source_path: PathBuf,
    /// SHA-256 of the source text: identifies a version.
    pub sha256: String,
    /// The source text itself (stored with each version).
    #[serde(skip)]
    pub source: String,
    /// The schedules its hours nodes use, by name (read from `schedules/NAME.toml`).
    #[serde(skip)]
    pub schedules: std::collections::BTreeMap<String, super::hours::Schedule>,
}

impl Dialplan {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// Looks a node up by name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name).map(NodeId)
    }

    /// Every language the plan speaks: its own first, then those its language nodes switch to.
    /// Every prompt must exist in each.
    pub fn languages(&self) -> Vec<Language> {
        let mut out = vec![self.language];
        for n in &self.nodes {
            if let NodeKind::Language { language, .. } = &n.kind {
                if !out.contains(language) {
                    out.push(*language);
                }
            }
        }
        out
    }

    /// Every prompt name the plan plays.
    pub fn prompts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.nodes.iter().flat_map(|n| n.kind.prompts()).collect();
        out.extend(self.escalation.connecting_prompt.as_deref());
        out.extend(self.escalation.confirm_prompt.as_deref());
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One node: a name, variables set on entry, and what it does.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Name as written in `[nodes.NAME]`.
    pub name: String,
    /// Variables assigned when the call enters the node.
    pub set: Vec<(String, String)>,
    /// What the node does.
    pub kind: NodeKind,
}

/// What a node does.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NodeKind {
    /// Play a prompt (optional) and go on.
    Say {
        /// Prompt to play.
        prompt: Option<String>,
        /// Where to go after it.
        next: NodeId,
    },
    /// Play a prompt and wait for a spoken or keyed answer.
    Ask {
        /// The question.
        prompt: String,
        /// The answers understood here.
        choices: Vec<Choice>,
        /// Played before the question is asked again after a no-match.
        no_match: Option<String>,
        /// Played before the question is asked again after a no-input.
        no_input: Option<String>,
        /// Overrides the plan's no-input timeout at this node.
        no_input_after: Option<Duration>,
    },
    /// Go to a node chosen by a variable's value.
    Branch {
        /// Variable to test.
        var: String,
        /// Value → node.
        cases: Vec<(String, NodeId)>,
        /// Where to go when no case matches or the variable is unset.
        default: NodeId,
    },
    /// Hand the caller to a queue of people (the plan's own routing, not an escalation).
    Transfer {
        /// Prompt played first.
        prompt: Option<String>,
        /// Queue name.
        queue: String,
    },
    /// End the call (after an optional goodbye).
    Hangup {
        /// Prompt played first.
        prompt: Option<String>,
    },
    /// Gather several keys into a variable (an account number), check them, read them back.
    Collect(Box<Collect>),
    /// Switch the call's language (prompts, phrase sets, recogniser) and go on; the prompt,
    /// if any, plays in the new language ("您选择了中文").
    Language {
        /// The language from here on.
        language: Language,
        /// Prompt played first, in the new language.
        prompt: Option<String>,
        /// Where to go next.
        next: NodeId,
    },
    /// Ask an HTTP endpoint and map fields of its JSON answer into variables.
    Lookup(Box<Lookup>),
    /// Go on by the line's opening hours: open, closed, or a holiday.
    Hours {
        /// The schedule's name (`schedules/NAME.toml`, in [`Dialplan::schedules`]).
        schedule: String,
        /// Where to go within the hours.
        open: NodeId,
        /// Where to go outside them (and when the operator closed the line now).
        closed: NodeId,
        /// Where to go on a holiday (default: `closed`).
        holiday: Option<NodeId>,
    },
}

/// A collect node: the caller keys in digits, the line checks and reads them back. The
/// zero-out stays live: when the zero-out key is a digit, inside a collect it is the repeat
/// key then the zero-out key (`*0`), which the prompt should announce.
#[derive(Debug, Clone, Serialize)]
pub struct Collect {
    /// The question ("Please key in your account number, then press hash").
    pub prompt: String,
    /// Variable the digits go into once accepted.
    pub var: String,
    /// Fewest digits accepted.
    pub min_digits: usize,
    /// Most digits: the entry ends by itself when this many are keyed.
    pub max_digits: usize,
    /// Key that ends an entry early (default `#`); `None` when the plan switched it off.
    pub terminator: Option<char>,
    /// Silence between keys that ends the entry.
    pub inter_digit: Duration,
    /// The whole entry must match this pattern.
    pub pattern: Option<DigitPattern>,
    /// The entry must pass the Luhn check (card and many account numbers).
    pub luhn: bool,
    /// Played before the digits are read back ("You entered").
    pub readback: Option<String>,
    /// Asked after the read-back ("If that is right press 1, to enter it again press 2");
    /// without it the digits are not read back.
    pub confirm: Option<String>,
    /// Played before the question is asked again after an entry that failed its checks.
    pub invalid: Option<String>,
    /// Played before the question is asked again after silence.
    pub no_input: Option<String>,
    /// Overrides the plan's no-input timeout at this node.
    pub no_input_after: Option<Duration>,
    /// The digits are masked in transcripts, screen pops, traces and logs.
    pub sensitive: bool,
    /// Where to go once the digits are accepted.
    pub next: NodeId,
    /// Where to go when the tries run out; `None`: a person (escalation for retries).
    pub failure: Option<NodeId>,
}

/// A lookup node: one HTTP request, its answer's fields into variables, a failure branch.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    /// URL template: `{var}` is replaced by the variable's value, URL-encoded.
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    /// Header → value template (`secret:NAME` takes the value from `[lookups.secrets]`).
    pub headers: Vec<(String, String)>,
    /// JSON body (POST): key → value template.
    pub body: Vec<(String, String)>,
    /// Variable → dotted path in the answer (`customer.tier`).
    pub fields: Vec<(String, String)>,
    /// How long to wait for the answer.
    pub timeout: Duration,
    /// Where to go with the fields set.
    pub next: NodeId,
    /// Where to go when the request fails, times out, is refused or lacks a field.
    pub failure: NodeId,
}

impl Collect {
    /// The prompt that reads digit `d` back (`digit_0` … `digit_9`, in the plan's language).
    pub fn digit_prompt(d: char) -> String {
        format!("digit_{d}")
    }
}

/// A pattern a whole entry of digits must match (a regular expression, anchored at both ends).
#[derive(Debug, Clone)]
pub struct DigitPattern {
    source: String,
    re: regex::Regex,
}

impl DigitPattern {
    /// Compiles `source`, anchored so that it must match the whole entry.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        let re = regex::Regex::new(&format!("^(?:{source})$"))?;
        Ok(DigitPattern {
            source: source.to_string(),
            re,
        })
    }

    /// Whether `digits` match.
    pub fn matches(&self, digits: &str) -> bool {
        self.re.is_match(digits)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Serialize for DigitPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl NodeKind {
    /// Prompts this node may play.
    pub fn prompts(&self) -> Vec<&str> {
        match self {
            NodeKind::Say { prompt, .. }
            | NodeKind::Language { prompt, .. }
            | NodeKind::Transfer { prompt, .. }
            | NodeKind::Hangup { prompt } => prompt.iter().map(String::as_str).collect(),
            NodeKind::Ask {
                prompt,
                no_match,
                no_input,
                ..
            } => std::iter::once(prompt.as_str())
                .chain(no_match.as_deref())
                .chain(no_input.as_deref())
                .collect(),
            NodeKind::Branch { .. } | NodeKind::Hours { .. } | NodeKind::Lookup(_) => Vec::new(),
            NodeKind::Collect(c) => {
                let mut out = vec![c.prompt.as_str()];
                out.extend(c.invalid.as_deref());
                out.extend(c.no_input.as_deref());
                if c.confirm.is_some() {
                    out.extend(c.readback.as_deref());
                    out.extend(c.confirm.as_deref());
                    out.extend(DIGIT_PROMPTS);
                }
                out
            }
        }
    }

    /// Nodes this node can lead to.
    pub fn successors(&self) -> Vec<NodeId> {
        match self {
            NodeKind::Say { next, .. } | NodeKind::Language { next, .. } => vec![*next],
            NodeKind::Ask { choices, .. } => choices.iter().map(|c| c.go).collect(),
            NodeKind::Branch { cases, default, .. } => {
                cases.iter().map(|(_, n)| *n).chain([*default]).collect()
            }
            NodeKind::Transfer { .. } | NodeKind::Hangup { .. } => Vec::new(),
            NodeKind::Collect(c) => std::iter::once(c.next).chain(c.failure).collect(),
            NodeKind::Lookup(l) => vec![l.next, l.failure],
            NodeKind::Hours {
                open,
                closed,
                holiday,
                ..
            } => [*open, *closed].into_iter().chain(*holiday).collect(),
        }
    }

    /// True for nodes that wait for the caller or hand them to a person.
    pub fn listens_or_transfers(&self) -> bool {
        matches!(
            self,
            NodeKind::Ask { .. } | NodeKind::Transfer { .. } | NodeKind::Collect(_)
        )
    }

    /// True for nodes that wait for the caller (a question or a collect).
    pub fn listens(&self) -> bool {
        matches!(self, NodeKind::Ask { .. } | NodeKind::Collect(_))
    }
}

/// The prompts that read digits back, `digit_0` … `digit_9`.
pub const DIGIT_PROMPTS: [&str; 10] = [
    "digit_0", "digit_1", "digit_2", "digit_3", "digit_4", "digit_5", "digit_6", "digit_7",
    "digit_8", "digit_9",
];

/// One answer an [`NodeKind::Ask`] node understands.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// The key that picks it.
    pub dtmf: Option<char>,
    /// Words or phrases that pick it (matched fuzzily; Mandarin by sound).
    pub words: Vec<String>,
    /// Where it leads.
    pub go: NodeId,
    /// Variables assigned when it is picked.
    pub set: Vec<(String, String)>,
}
