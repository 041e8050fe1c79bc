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
}

impl NodeKind {
    /// Prompts this node may play.
    pub fn prompts(&self) -> Vec<&str> {
        match self {
            NodeKind::Say { prompt, .. }
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
            NodeKind::Branch { .. } => Vec::new(),
        }
    }

    /// Nodes this node can lead to.
    pub fn successors(&self) -> Vec<NodeId> {
        match self {
            NodeKind::Say { next, .. } => vec![*next],
            NodeKind::Ask { choices, .. } => choices.iter().map(|c| c.go).collect(),
            NodeKind::Branch { cases, default, .. } => {
                cases.iter().map(|(_, n)| *n).chain([*default]).collect()
            }
            NodeKind::Transfer { .. } | NodeKind::Hangup { .. } => Vec::new(),
        }
    }

    /// True for nodes that wait for the caller or hand them to a person.
    pub fn listens_or_transfers(&self) -> bool {
        matches!(self, NodeKind::Ask { .. } | NodeKind::Transfer { .. })
    }
}

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
