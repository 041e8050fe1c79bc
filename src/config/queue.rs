//! `[queues.NAME]` and `[messages]`: who answers a queue, how long they ring and wait, and the
//! words said while a caller waits.

use serde::Deserialize;

/// `[queues.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Who answers: user names (agents who log in to the console or register a SIP phone) and
    /// static `sip:` URIs (always called). Nobody else is ever called (no open relay).
    pub agents: Vec<String>,
    /// Seconds an agent may ring before the next is tried.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_seconds: f64,
    /// Longest wait in the queue; then the caller may leave a message.
    #[serde(default = "default_max_wait")]
    pub max_wait_seconds: f64,
    /// Seconds between position and wait announcements to a waiting caller.
    #[serde(default = "default_announce_every")]
    pub announce_every_seconds: f64,
    /// Seconds before an agent who declined, was busy or did not answer is offered the same
    /// caller again (other agents are offered the caller at once).
    #[serde(default = "default_retry_refused")]
    pub retry_refused_seconds: f64,
    /// Seconds after a call before the agent is offered the next one.
    #[serde(default = "default_wrap_up")]
    pub wrap_up_seconds: f64,
    /// `"cold"` (the default) bridges an agent's phone the moment it answers; `"warm"` first
    /// speaks a short brief to the agent (why the caller is coming, what they said) and
    /// bridges only when the agent presses 1; 2, hanging up or silence passes the caller to
    /// the next agent with the context kept. Browser agents read the screen pop before any
    /// audio; on a warm queue their buttons are Accept / Pass.
    #[serde(default)]
    pub mode: QueueMode,
    /// Warm queues: seconds from the agent's answer within which they must press 1 or 2
    /// (the brief plays meanwhile); then the caller goes to the next agent.
    #[serde(default = "default_brief_timeout")]
    pub brief_timeout_seconds: f64,
    /// Callers of this queue reach agents over TLS with SRTP only: phones registered over
    /// plain UDP or TCP are passed over, an agent answering without SRTP is hung up and the
    /// next one rung. Needs `[sip] tls_bind`; static agents must be `sips:` or
    /// `;transport=tls`.
    #[serde(default)]
    pub require_srtp: bool,
    /// Offer a waiting caller a callback when the expected wait is longer than this many
    /// seconds (0: as soon as they join), or when nobody staffs the queue. Key 1 or "yes"
    /// books it (to the caller's number, or 3 to key another); the caller keeps their place
    /// and the server calls them back through `callback_trunk` once an agent is free. Unset:
    /// no callbacks.
    #[serde(default)]
    pub offer_callback_after_seconds: Option<f64>,
    /// The `[trunks.NAME]` that places callbacks (required with
    /// `offer_callback_after_seconds`).
    #[serde(default)]
    pub callback_trunk: Option<String>,
    /// Calls to the customer before a callback becomes a task for a person (default 3).
    #[serde(default = "default_callback_attempts")]
    pub callback_attempts: u32,
    /// Seconds between a callback the customer did not answer and the next try (default 120).
    #[serde(default = "default_callback_retry")]
    pub callback_retry_seconds: f64,
    /// The numbers a callback may go to, as prefixes (`["+1", "0"]`): a caller ID or keyed
    /// number that starts with none of them is not accepted (the caller is asked for another).
    /// Empty (the default): any number of 3 to 20 digits. Set it on a line reachable by the
    /// public: a callback is a call the line pays for.
    #[serde(default)]
    pub callback_numbers: Vec<String>,
}

fn default_callback_attempts() -> u32 {
    3
}

fn default_callback_retry() -> f64 {
    120.0
}

/// How a queue hands a caller to an agent's phone (see [`QueueConfig::mode`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    /// Bridge at once.
    #[default]
    Cold,
    /// A spoken brief first; the agent takes (1) or passes (2).
    Warm,
}

fn default_brief_timeout() -> f64 {
    25.0
}

/// `[messages]`: what happens when no agent of a queue answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagesConfig {
    /// Longest message a caller may leave, in seconds.
    pub max_seconds: f64,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        MessagesConfig { max_seconds: 60.0 }
    }
}

fn default_ring_timeout() -> f64 {
    20.0
}

fn default_max_wait() -> f64 {
    120.0
}

fn default_announce_every() -> f64 {
    30.0
}

fn default_retry_refused() -> f64 {
    30.0
}

fn default_wrap_up() -> f64 {
    10.0
}
