//! Media: G.711 audio, RTP packets, DTMF (RFC 4733 and in-band), jitter buffer, prompt playback
//! (loudness normalisation, the slower elderly-mode rendering), endpointing, call recording and
//! SRTP ([`SrtpSession`], SDES-keyed).
//! Pure and synchronous: no sockets, no clocks, no tasks — except [`net`]: the RTP sockets (the
//! port pool and a call's legs) and the shared media clock, which ticks every call's playout
//! ([`Playout`]) every 20 ms from one task per core.

mod dtmf;
mod endpoint;
#[cfg(test)]
mod fuzz_tests;
mod g711;
mod jitter;
mod level;
mod listener;
mod loudness;
pub mod net;
mod pace;
mod playout;
mod prompt;
mod prompt_cache;
pub mod prompt_convert;
mod prosody;
mod recorder;
mod rtp;
mod squeeze;
mod srtp;
mod tempo;
mod vad;

pub use dtmf::{rfc4733_payload, InbandDetector, Rfc4733Receiver};
pub use endpoint::{EndpointConfig, EndpointEvent, Endpointer};
pub use g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear, Codec};
pub use jitter::{JitterBuffer, Push, MAX_FRAME_BYTES};
pub use level::{dbfs, rms};
pub use listener::{Heard, Listener};
pub use loudness::{normalise, voiced_dbfs};
pub use pace::{slow_down, Pacing};
pub use playout::{Ended, Frame, Playout};
pub use prompt::{
    hold_music, ringback, tone, Player, Prompt, PromptError, FRAME_SAMPLES, PROMPT_SAMPLE_RATE,
};
pub use prompt_cache::{Pace, PromptAudio, PromptCache, DEFAULT_LOUDNESS_DBFS};
pub use prosody::Prosody;
pub use recorder::{MonoRecorder, Recorder};
pub use rtp::{parse_rtp, RtpSender, RtpView, MAX_RTP_PAYLOAD, RTP_HEADER_LEN};
pub use squeeze::squeeze_pauses;
pub use srtp::{SrtpError, SrtpSession};
pub use tempo::{stretch, stretched_len};
pub use vad::{VadError, VoiceDetector};
