//! What goes into the engine ([`Event`]) and what comes out ([`Action`]).

use super::context::TransferContext;
pub use super::reason::Reason;
pub use crate::media::Pace;
use serde::Serialize;
use std::time::Duration;

/// Something that happened on the call. `now` is passed beside it to [`super::Call::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The call is answered: run the plan from its start node.
    Start,
    /// The prompt started by `Action::Play { id, .. }` played to its end.
    PromptFinished {
        /// The id given in the Play action.
        id: u32,
    },
    /// Voice activity began (barge-in during a question stops the prompt).
    SpeechStarted,
    /// The caller finished an utterance (endpointing decided it ended) and ASR produced text.
    Utterance(Utterance),
    /// What the caller said so far in an utterance that is still going on (recognised at a
    /// short pause). Only a request for a person is acted on, at once; anything else waits for
    /// the [`Event::Utterance`] at the end of the turn.
    Partial(Utterance),
    /// A DTMF key (RFC 4733 or in-band).
    Digit(char),
    /// A timer asked for with [`Action::WakeAt`] is due (extra or early timers are harmless).
    Timer,
    /// Something failed under the call: the caller goes to a person.
    Fault(Fault),
    /// The caller hung up.
    CallerHangup,
    /// The answer to [`Action::Lookup`] with this id: JSON, or why there is none.
    LookupDone {
        /// The id given in the Lookup action.
        id: u32,
        /// The endpoint's JSON, or what went wrong, in words.
        result: Result<serde_json::Value, String>,
    },
}

/// One caller utterance with its timing, as measured by endpointing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Utterance {
    /// Recognised text (may be empty when ASR heard nothing it could write down).
    pub text: String,
    /// When speech started (call time).
    pub started: Duration,
    /// When speech ended (call time).
    pub ended: Duration,
    /// Silent gaps inside the utterance.
    pub pauses: Vec<Duration>,
    /// Recogniser confidence 0–1, when known.
    pub confidence: Option<f32>,
    /// Why the recogniser's text should not be believed (it read its prompt back, looped, or
    /// heard no speech): the turn is unclear, never a choice or a request for a person.
    pub doubt: Option<String>,
    /// Pitch contour and loudness, when the audio had enough voiced speech to tell.
    pub prosody: Option<crate::media::Prosody>,
}

/// A failure under the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// Which part failed.
    pub kind: FaultKind,
    /// What happened, for the agent and the log.
    pub detail: String,
}

/// Which part of the system failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Speech recognition (error, overload, missed deadline).
    Asr,
    /// Media (prompt missing, RTP stopped).
    Media,
    /// The dialplan led somewhere it should not.
    Dialplan,
}

/// How a call ended, as far as the engine is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Handed to a queue of people. `reason` is `None` when the plan itself routed there.
    Transfer {
        /// Queue name.
        queue: String,
        /// Escalation reason, if it was one.
        reason: Option<Reason>,
    },
    /// The caller hung up.
    Hangup,
    /// The plan finished and hung up.
    Completed,
}

/// An instruction for the IO layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Play a prompt; report `Event::PromptFinished { id }` when it ends.
    Play {
        /// Matches the PromptFinished event.
        id: u32,
        /// Prompt name (`prompts/<language>/<prompt>.wav`).
        prompt: String,
        /// How fast: [`Pace::Slow`] once the call is in elderly mode (the IO side plays the
        /// slower rendering, pitch kept, longer sentence breaks).
        pace: Pace,
    },
    /// Speak a prompt whose text has placeholders, filled with the call's values: `text` is
    /// what to say (numbers, dates, digits written out in the call's language), made by the
    /// speech engine that makes prompts and cached. Report `Event::PromptFinished { id }`.
    PlayText {
        /// Matches the PromptFinished event.
        id: u32,
        /// The prompt it renders (for logs and captions).
        prompt: String,
        /// The words to say.
        text: String,
        /// How fast.
        pace: Pace,
    },
    /// Make an HTTP request for a lookup node and report [`Event::LookupDone`] with `id`.
    /// The caller waits meanwhile; the zero-out and a request for a person still go at once.
    Lookup {
        /// Matches the LookupDone event.
        id: u32,
        /// What to ask.
        request: super::lookup::LookupRequest,
    },
    /// Stop the prompt now (barge-in, zero-out). No PromptFinished follows.
    StopPlayback,
    /// Start listening for the caller.
    Listen {
        /// Words the caller is likely to say (ASR initial prompt).
        hints: Vec<String>,
        /// Phrases the recogniser favours while decoding (this node's choices, those of the
        /// questions ahead, the names of a person): see [`crate::asr::Boost`].
        boost: Vec<String>,
        /// Silence that ends an utterance.
        endpoint_silence: Duration,
        /// How long until no input counts (the engine also sets a timer).
        no_input: Duration,
    },
    /// End the caller's utterance under way after this much silence instead of the node's
    /// window, unless they speak again first: what was heard so far (a person's name alone)
    /// already decides the turn, so a pause after it need not be waited out in full.
    EndTurnAfter(Duration),
    /// Deliver `Event::Timer` at this call time.
    WakeAt(Duration),
    /// Hand the caller to a queue with everything known so far, *now*: the queue join and the
    /// first agent's INVITE must not wait for any prompt.
    Transfer {
        /// Queue name.
        queue: String,
        /// Reason, signals, path, transcript.
        context: Box<TransferContext>,
        /// Prompts the caller hears while the agents ring ("connecting you, one moment"),
        /// before ringback or hold music. They never delay the hand-off.
        announce: Vec<String>,
    },
    /// End the call.
    Hangup,
    /// Something worth logging or storing; no IO needed.
    Trace(Trace),
}

/// Observations the engine reports for logs, the store and the simulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "trace")]
pub enum Trace {
    /// The call entered a node.
    Node {
        /// Node name.
        node: String,
    },
    /// The caller said something, and what the engine made of it.
    Heard {
        /// What was said.
        text: String,
        /// How it was understood.
        intent: String,
    },
    /// A key was pressed.
    Digit {
        /// The key.
        digit: char,
    },
    /// Nothing was said before the timeout.
    NoInput {
        /// Seconds waited.
        waited: f64,
    },
    /// The hesitation score after a caller turn.
    Hesitation {
        /// Score after this turn.
        score: f64,
        /// Signals of this turn, in words.
        signals: Vec<String>,
    },
    /// The call switched to elderly timing.
    ElderlyMode {
        /// Why.
        why: String,
    },
    /// Keys pressed during announcements were used at a question (type-ahead). Only the
    /// count: the keys may be a sensitive number.
    TypeAhead {
        /// Node the keys were used at.
        node: String,
        /// How many keys were kept for it.
        keys: usize,
    },
    /// A collect node accepted an entry (the value masked when the node is sensitive).
    Collected {
        /// Node name.
        node: String,
        /// Variable set.
        var: String,
        /// The value, or its mask.
        value: String,
    },
    /// The call switched language (a language node): prompts and the recogniser follow.
    Language {
        /// The language from now on.
        language: crate::dialplan::Language,
    },
    /// A lookup node got its answer (or did not).
    Lookup {
        /// Node name.
        node: String,
        /// `found` or `failed: why`.
        outcome: String,
    },
    /// An hours node judged the line open, closed or on holiday.
    Hours {
        /// Node name.
        node: String,
        /// `open`, `closed`, `holiday: NAME` or `closed_now`.
        status: String,
        /// The local time it was judged at (or why the line was closed now).
        local: String,
    },
    /// A collect node refused an entry.
    Rejected {
        /// Node name.
        node: String,
        /// Why, in words.
        why: String,
    },
    /// The caller pressed the repeat key: the question plays again, not counted as a try.
    Repeat {
        /// Node the call is at.
        node: String,
        /// The prompt played again.
        prompt: String,
    },
}
