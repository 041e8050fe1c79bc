//! The speech recognizer as the rest of the server sees it: 16 kHz mono samples in, text out.

use super::doubt::Doubt;
use std::path::PathBuf;
use std::time::Duration;

/// How to recognise one utterance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecognizeOptions {
    /// Spoken language as an ISO 639-1 code (`"en"`, `"zh"`); `None` detects it, which costs
    /// about a second decode pass.
    pub language: Option<String>,
    /// Words the caller is likely to say (the node's choices and the human phrases): biases
    /// the decoder towards them and, for Mandarin, towards simplified characters.
    pub initial_prompt: Option<String>,
    /// Encoder window in 20 ms frames (see [`audio_ctx_for`](super::audio_ctx_for)); `None`
    /// runs the full 30 s window.
    pub audio_ctx: Option<i32>,
    /// Phrases to favour while decoding (contextual biasing, see [`Boost`](super::Boost)):
    /// the node's choices, those a step or two ahead, the names of a person.
    pub boost: Vec<String>,
    /// How much to favour them, in logits added to each of their tokens; 0 turns it off.
    pub boost_logit: f32,
}

/// A piece of a transcript with its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Text of the segment, trimmed.
    pub text: String,
    /// Start, from the beginning of the audio.
    pub start: Duration,
    /// End, from the beginning of the audio.
    pub end: Duration,
    /// Probability the recogniser gave to "nobody spoke".
    pub no_speech_probability: f32,
}

/// What was said.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The whole text, segments joined, trimmed; empty when nothing was recognised.
    pub text: String,
    /// Language of the text (the requested one, or the detected one).
    pub language: String,
    /// Mean probability of the text tokens (0..1), when the recogniser reports it.
    pub confidence: Option<f32>,
    /// Why the text should not be believed (prompt read back, a loop, no speech, guessing):
    /// such a turn is unclear, never a choice or a request for a person.
    pub doubt: Option<Doubt>,
    /// The segments the text is made of.
    pub segments: Vec<Segment>,
}

/// An error from a recogniser.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// The model file is not there.
    #[error("speech model {} not found; run: humanline model install (or make model)", path.display())]
    ModelMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The model file could not be loaded.
    #[error("speech model {}: {message}; delete it and run: humanline model install", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// What the loader said.
        message: String,
    },
    /// The language code is not one whisper knows.
    #[error("unknown language {0:?} (use an ISO 639-1 code such as \"en\" or \"zh\")")]
    UnknownLanguage(String),
    /// An option is out of range.
    #[error("invalid recognition option: {0}")]
    InvalidOption(String),
    /// Resampling the audio failed.
    #[error("resampling: {0}")]
    Resample(String),
    /// The recogniser failed while running.
    #[error("speech recognition failed: {0}")]
    Engine(String),
    /// A look that may give way (a second look) was stopped because a caller's finished turn
    /// was waiting for the worker.
    #[error("speech recognition gave way to a finished turn")]
    Preempted,
}

/// Speech to text. Implementations are shared by the call tasks, so they must be usable from
/// several threads at once.
pub trait Recognizer: Send + Sync {
    /// Recognises one utterance of 16 kHz mono samples in -1..1.
    fn transcribe(&self, pcm16k: &[f32], opts: &RecognizeOptions) -> Result<Transcript, AsrError>;

    /// Like [`transcribe`](Recognizer::transcribe), but gives up with
    /// [`AsrError::Preempted`] as soon as `stop` says so (checked between steps of the
    /// computation). The default runs to the end.
    fn transcribe_unless(
        &self,
        pcm16k: &[f32],
        opts: &RecognizeOptions,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Transcript, AsrError> {
        let _ = stop;
        self.transcribe(pcm16k, opts)
    }
}
