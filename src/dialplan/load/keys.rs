//! The plan-wide keys and counts: `[escalation]`, the zero-out, the repeat key.

use super::{is_dtmf, Builder, K};
use crate::dialplan::config::EscalationConfig;
use crate::dialplan::raw::RawEscalation;
use toml::Spanned;

/// Longest stay in the menus when a plan names none: a quarter of an hour.
const DEFAULT_MAX_IVR_SECONDS: f64 = 900.0;
/// Entries into one node when a plan names none.
const DEFAULT_MAX_NODE_VISITS: u32 = 8;

impl Builder<'_> {
    pub(super) fn escalation(&mut self, raw: Option<Spanned<RawEscalation>>) -> EscalationConfig {
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
        let max_ivr_time = match raw.max_ivr_seconds {
            Some(t) if !(30.0..=7200.0).contains(t.get_ref()) => {
                self.error(
                    t.span().start,
                    K::BadValue,
                    format!("max_ivr_seconds = {} is out of range", t.get_ref()),
                    "use 30 to 7200 seconds (900, a quarter of an hour, is the default); a person takes over then",
                );
                DEFAULT_MAX_IVR_SECONDS
            }
            Some(t) => *t.get_ref(),
            None => DEFAULT_MAX_IVR_SECONDS,
        };
        let max_node_visits = match raw.max_node_visits {
            Some(n) if !(2..=100).contains(n.get_ref()) => {
                self.error(
                    n.span().start,
                    K::BadValue,
                    format!("max_node_visits = {} is out of range", n.get_ref()),
                    "use 2 to 100 (8 is the default); a person takes over when a node is entered more often",
                );
                DEFAULT_MAX_NODE_VISITS
            }
            Some(n) => *n.get_ref() as u32,
            None => DEFAULT_MAX_NODE_VISITS,
        };
        EscalationConfig {
            max_ivr_time: std::time::Duration::from_secs_f64(max_ivr_time),
            max_node_visits,
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

    pub(super) fn zero_out(&mut self, v: &Spanned<toml::Value>) -> Option<char> {
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

    pub(super) fn repeat_key(&mut self, v: &Spanned<toml::Value>, zero_out: char) -> Option<char> {
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

    pub(super) fn small_count(&mut self, v: Option<&Spanned<i64>>, default: u32, key: &str) -> u32 {
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
}
