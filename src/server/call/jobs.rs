//! Slow work beside the call: a slower prompt rendering, spoken words (espeak-ng), the queue
//! announcement, the console's WebRTC offer with the screen pop (a store read). Each runs as
//! its own task in the call's [`JoinSet`](tokio::task::JoinSet) and its answer comes back
//! here as a [`Done`], like a packet or a SIP message: the call loop never waits for it, so a
//! key, a BYE or a timer is handled at once meanwhile (the caller's audio never waited: the
//! media clock plays it). An answer the call no longer wants (the engine moved to another
//! prompt, the agent is no longer rung) is dropped. The jobs end with the call.

use super::*;
use crate::media::Prompt;
use crate::webrtc::MediaPeer;

/// A slow piece of work, done.
pub(super) enum Done {
    /// The audio of engine prompt `id` (`name` at the pace it asked for).
    Prompt {
        id: u32,
        name: String,
        result: Result<Prompt, String>,
    },
    /// The spoken words of engine prompt `id` (`shown`: its text as captions show it).
    Spoken {
        id: u32,
        prompt: String,
        shown: String,
        result: Result<Prompt, String>,
    },
    /// Queue announcement `seq`: position and wait, with the speech engine's words when it
    /// could speak them.
    Announcement {
        seq: u64,
        position: usize,
        minutes: usize,
        spoken: Option<(String, Prompt)>,
    },
    /// The callback offer's words (`booked`: the confirmation) for sound `seq`.
    CallbackWords {
        seq: u64,
        booked: bool,
        spoken: Option<(String, Prompt)>,
    },
    /// The console offer for `agent`: the WebRTC peer, its SDP offer and the screen pop.
    BrowserOffer {
        agent: String,
        result: Result<(MediaPeer, String, serde_json::Value), String>,
    },
}

impl CallTask {
    /// Takes the answer of a job beside the call.
    pub(super) async fn job_done(&mut self, done: Done) {
        match done {
            Done::Prompt { id, name, result } => {
                if self.awaited_prompt == Some(id) {
                    self.start_prompt(id, &name, result);
                }
            }
            Done::Spoken {
                id,
                prompt,
                shown,
                result,
            } => self.spoken_ready(id, &prompt, &shown, result),
            Done::Announcement {
                seq,
                position,
                minutes,
                spoken,
            } => self.announced(seq, position, minutes, spoken),
            Done::CallbackWords {
                seq,
                booked,
                spoken,
            } => self.callback_words(seq, booked, spoken),
            Done::BrowserOffer { agent, result } => self.browser_offered(agent, result).await,
        }
    }
}
