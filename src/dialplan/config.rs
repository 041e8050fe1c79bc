//! Tunable tables of a dialplan: escalation, timing and hesitation weights, with documented defaults.

use serde::{Deserialize, Serialize};

/// `[escalation]` after validation: applies at every node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationConfig {
    /// The zero-out key (default "0"). Always on; a plan can change the key, never switch it off.
    pub zero_out: char,
    /// Queue that escalations go to (default "support").
    pub queue: String,
    /// No-input/no-match re-prompts allowed at a node before a human takes over (default 2).
    pub max_retries: u32,
    /// Re-prompts allowed once a caller is in elderly mode (default 1): a slow caller reaches a
    /// person early rather than late.
    pub elderly_max_retries: u32,
    /// Hesitation score at which the caller goes to a human (default 0.6).
    pub hesitation_threshold: f64,
    /// Extra phrases that mean "a human, please", added to the built-in EN and ZH sets.
    pub human_phrases: Vec<String>,
    /// Prompt played while the agents ring after an escalation ("connecting you, one moment").
    /// It never delays the hand-off.
    pub connecting_prompt: Option<String>,
    /// The one question asked when a caller names a person without saying they want one ("Do
    /// you want to talk to a person?"): "yes" or silence transfers, "no" goes back to the
    /// question. Without it such a caller is transferred (when unsure, toward a person).
    pub confirm_prompt: Option<String>,
    /// Longest time a caller may spend in the menus before a person takes over (default
    /// 900 s): a guard rail against any flow that keeps a caller going round.
    pub max_ivr_time: std::time::Duration,
    /// Times the call may enter one question (an ask or collect node) before a person takes
    /// over (default 8): a loop counter per node, so no path keeps a caller circling.
    pub max_node_visits: u32,
}

/// `[timing]`: how long the line waits for a caller. Seconds as decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimingConfig {
    /// Silence after a question before it counts as no input.
    pub no_input_seconds: f64,
    /// Silence that ends an utterance (endpointing), for a typical caller.
    pub endpoint_silence_seconds: f64,
    /// No-input timeout once the caller is in elderly mode.
    pub elderly_no_input_seconds: f64,
    /// Endpointing silence in elderly mode: long enough never to cut a slow speaker off.
    pub elderly_endpoint_silence_seconds: f64,
    /// Start every call in elderly mode (a line for older customers).
    pub elderly_from_start: bool,
    /// Hesitation score at which a call switches to elderly timing.
    pub elderly_after_score: f64,
    /// Silence between keys that ends an entry at a collect node (a node may override it).
    pub inter_digit_seconds: f64,
    /// Keys pressed during announcements kept for the next question (type-ahead), at most.
    /// 0 switches type-ahead off.
    pub type_ahead_keys: usize,
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            no_input_seconds: 6.0,
            endpoint_silence_seconds: 0.7,
            elderly_no_input_seconds: 10.0,
            elderly_endpoint_silence_seconds: 2.0,
            elderly_from_start: false,
            elderly_after_score: 0.25,
            inter_digit_seconds: 3.0,
            type_ahead_keys: 8,
        }
    }
}

/// `[hesitation]`: what counts as hesitating and how much each signal weighs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HesitationConfig {
    /// Share of the previous score kept at each new turn (0 forgets, 1 never forgets).
    pub decay: f64,
    /// Waiting longer than this before speaking is a signal.
    pub delay_seconds: f64,
    /// A pause inside an utterance longer than this is a signal.
    pub long_pause_seconds: f64,
    /// Speech slower than this many syllables per second is a signal.
    pub slow_syllables_per_second: f64,
    /// Speech rate is only judged on utterances with at least this many syllables.
    pub rate_min_syllables: usize,
    /// Fillers counted per turn at most.
    pub max_fillers: usize,
    /// Long pauses counted per turn at most.
    pub max_pauses: usize,
    /// An answer whose pitch ends this many semitones above the rest of it is said like a
    /// question (speaker-normalised, so it holds for high and low voices alike).
    pub rising_final_semitones: f64,
    /// Weight of each signal.
    pub weights: HesitationWeights,
    /// Extra filler words (added to the built-in EN and ZH lists).
    pub fillers: Vec<String>,
    /// Extra confusion phrases (added to the built-in lists).
    pub confusion_phrases: Vec<String>,
    /// Extra "please repeat" phrases (added to the built-in lists).
    pub repeat_phrases: Vec<String>,
}

impl Default for HesitationConfig {
    fn default() -> Self {
        HesitationConfig {
            decay: 0.5,
            delay_seconds: 2.5,
            long_pause_seconds: 1.5,
            slow_syllables_per_second: 2.2,
            rate_min_syllables: 4,
            max_fillers: 3,
            max_pauses: 3,
            rising_final_semitones: 2.5,
            weights: HesitationWeights::default(),
            fillers: Vec::new(),
            confusion_phrases: Vec::new(),
            repeat_phrases: Vec::new(),
        }
    }
}

/// Weights of the hesitation signals, added up per turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HesitationWeights {
    /// Waited longer than `delay_seconds` before speaking.
    pub delay: f64,
    /// Each long pause inside the utterance.
    pub long_pause: f64,
    /// Each filler ("um", "嗯").
    pub filler: f64,
    /// Said a confusion phrase ("I don't understand", "不明白").
    pub confusion: f64,
    /// Spoke slower than `slow_syllables_per_second`.
    pub slow_speech: f64,
    /// Said nothing before the no-input timeout.
    pub no_input: f64,
    /// Said something that matched no choice.
    pub no_match: f64,
    /// Asked for the prompt again ("sorry?", "再说一遍").
    pub repeat_request: f64,
    /// Ended the answer with rising pitch, as if asking.
    pub rising_final: f64,
}

impl Default for HesitationWeights {
    fn default() -> Self {
        HesitationWeights {
            delay: 0.25,
            long_pause: 0.1,
            filler: 0.1,
            confusion: 0.35,
            slow_speech: 0.15,
            no_input: 0.25,
            no_match: 0.2,
            repeat_request: 0.2,
            rising_final: 0.1,
        }
    }
}
