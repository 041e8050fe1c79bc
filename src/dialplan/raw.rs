//! The dialplan file as written: serde structs with source spans, before any checks.

use super::config::{HesitationConfig, TimingConfig};
use crate::text::MatchConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// Top level of a dialplan file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlan {
    pub name: Spanned<String>,
    pub language: Spanned<String>,
    pub start: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Kept loose like `zero_out`, so that `false` or `"**"` get a precise message.
    pub repeat_key: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub escalation: Option<Spanned<RawEscalation>>,
    #[serde(default)]
    pub timing: TimingConfig,
    #[serde(default)]
    pub hesitation: HesitationConfig,
    #[serde(default)]
    pub matching: MatchConfig,
    pub nodes: Spanned<BTreeMap<Spanned<String>, RawNode>>,
}

/// `[escalation]` as written. `zero_out` is kept loose so that `false` or `""` get a precise message.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEscalation {
    pub zero_out: Option<Spanned<toml::Value>>,
    pub queue: Option<String>,
    pub max_retries: Option<Spanned<i64>>,
    pub elderly_max_retries: Option<Spanned<i64>>,
    pub hesitation_threshold: Option<Spanned<f64>>,
    #[serde(default)]
    pub human_phrases: Vec<String>,
    pub connecting_prompt: Option<Spanned<String>>,
    pub confirm_prompt: Option<Spanned<String>>,
    pub max_ivr_seconds: Option<Spanned<f64>>,
    pub max_node_visits: Option<Spanned<i64>>,
}

/// One `[nodes.NAME]` table. Which keys are present decides the node's kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    pub say: Option<Spanned<String>>,
    pub ask: Option<Spanned<String>>,
    pub choices: Option<Vec<RawChoice>>,
    pub next: Option<Spanned<String>>,
    pub transfer: Option<Spanned<String>>,
    pub hangup: Option<Spanned<bool>>,
    pub branch: Option<Spanned<String>>,
    pub cases: Option<BTreeMap<String, Spanned<String>>>,
    pub default: Option<Spanned<String>>,
    pub set: Option<BTreeMap<String, String>>,
    pub no_match: Option<Spanned<String>>,
    pub no_input: Option<Spanned<String>>,
    pub no_input_seconds: Option<Spanned<f64>>,
    // collect nodes
    pub collect: Option<Spanned<String>>,
    pub var: Option<Spanned<String>>,
    pub min_digits: Option<Spanned<i64>>,
    pub max_digits: Option<Spanned<i64>>,
    pub terminator: Option<Spanned<String>>,
    pub inter_digit_seconds: Option<Spanned<f64>>,
    pub pattern: Option<Spanned<String>>,
    pub luhn: Option<Spanned<bool>>,
    pub readback: Option<Spanned<String>>,
    pub confirm: Option<Spanned<String>>,
    pub invalid: Option<Spanned<String>>,
    pub sensitive: Option<Spanned<bool>>,
    pub failure: Option<Spanned<String>>,
    // lookup nodes
    pub lookup: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub headers: Option<BTreeMap<String, Spanned<String>>>,
    pub body: Option<BTreeMap<String, Spanned<String>>>,
    pub fields: Option<BTreeMap<String, Spanned<String>>>,
    pub timeout_seconds: Option<Spanned<f64>>,
    // language nodes
    pub language: Option<Spanned<String>>,
    // hours nodes
    pub hours: Option<Spanned<String>>,
    pub open: Option<Spanned<String>>,
    pub closed: Option<Spanned<String>>,
    pub holiday: Option<Spanned<String>>,
}

/// One entry of `choices = [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChoice {
    pub dtmf: Option<Spanned<String>>,
    #[serde(default)]
    pub words: Vec<Spanned<String>>,
    pub go: Spanned<String>,
    pub set: Option<BTreeMap<String, String>>,
}
