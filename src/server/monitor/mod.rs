//! Supervisor monitoring (issue 18, part 5): a supervisor's SIP phone dials a feature code
//! naming an agent and joins that agent's bridged call as a third leg, to listen (nobody hears
//! them), whisper (only the agent hears them) or barge (both hear them). Keys 1, 2 and 3 on
//! the supervisor's phone switch between the three during the call.
//!
//! ```text
//!   supervisor's phone ── INVITE sip:*91alice@server (digest: a supervisor's SIP password)
//!        │ 200 OK + SDP, RTP both ways
//!   session task (this module): the supervisor's dialog, their RTP in, their keys
//!        │ attaches a mix::Monitor to the call's media slot (found by the agent's name)
//!   the call's media: caller ⇄ agent as before; the supervisor hears both (mixed on the
//!   media clock's tick), the agent and/or the caller hear the supervisor (added to what is
//!   relayed to them)
//! ```
//!
//! From the supervisor board (`/supervisor`), a supervisor whose SIP phone is registered
//! clicks Listen, Whisper or Barge on a bridged call: the server rings their phone and, when
//! they answer, puts them on the call; the buttons then switch the mode, and Stop hangs their
//! phone up (`board.rs`, `POST /api/supervisor/monitor`).
//!
//! Only a user with the supervisor role may monitor: the INVITE is challenged (401, the
//! registrar's nonces and failure limits) and must carry that user's digest for the From
//! user. One supervisor at a time per call (a second gets 486); a call that is not bridged
//! to the named agent gets 404. The call stores `monitor` (who, which mode), `monitor_mode`
//! for each switch and `monitor_end` among its events. When the agent's leg ends (hang-up,
//! transfer) the supervisor's leg is hung up too.

mod board;
mod dial_in;
pub mod mix;
mod session;

pub(super) use board::serve as serve_board;
pub(super) use dial_in::accept;
pub use mix::Mode;

use super::call::MediaSlot;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// The feature codes a supervisor dials before the agent's name: `*91` listen, `*92` whisper,
/// `*93` barge.
pub const FEATURE_CODES: [(&str, Mode); 3] = [
    ("*91", Mode::Listen),
    ("*92", Mode::Whisper),
    ("*93", Mode::Barge),
];

/// The mode and agent a Request-URI user names (`*92alice` → whisper to alice), or `None`
/// when it is no feature code (an ordinary call to a dialplan).
pub fn feature_code(user: &str) -> Option<(Mode, String)> {
    FEATURE_CODES.iter().find_map(|(code, mode)| {
        let agent = user.strip_prefix(code)?.trim();
        (!agent.is_empty()).then(|| (*mode, agent.to_string()))
    })
}

/// A call that may be monitored: bridged to an agent.
#[derive(Clone)]
pub(super) struct Target {
    /// The call's id.
    pub call_id: String,
    /// The agent it is bridged to (a name, or the URI a queue lists).
    pub agent: String,
    /// Its media, where the supervisor's leg is attached.
    pub slot: Weak<MediaSlot>,
}

/// The bridged calls by agent, as the call tasks report them.
#[derive(Default)]
pub(super) struct Targets {
    by_agent: Mutex<HashMap<String, Target>>,
}

impl Targets {
    fn key(agent: &str) -> String {
        agent.trim().to_lowercase()
    }

    /// `call_id` is bridged to `agent` now.
    pub fn bridged(&self, agent: &str, call_id: &str, slot: &Arc<MediaSlot>) {
        if let Ok(mut m) = self.by_agent.lock() {
            m.insert(
                Self::key(agent),
                Target {
                    call_id: call_id.to_string(),
                    agent: agent.to_string(),
                    slot: Arc::downgrade(slot),
                },
            );
        }
    }

    /// `call_id` is bridged to nobody any more.
    pub fn call_ended(&self, call_id: &str) {
        if let Ok(mut m) = self.by_agent.lock() {
            m.retain(|_, t| t.call_id != call_id);
        }
    }

    /// The call bridged to `agent` (its name, or the URI a queue lists), and its media.
    pub fn find(&self, agent: &str) -> Option<(Target, Arc<MediaSlot>)> {
        let m = self.by_agent.lock().ok()?;
        let key = Self::key(agent);
        let t = m
            .get(&key)
            .or_else(|| {
                // `*91alice` also finds `sip:alice@host` listed in a queue.
                m.iter()
                    .find(|(k, _)| {
                        k.strip_prefix("sip:")
                            .or_else(|| k.strip_prefix("sips:"))
                            .and_then(|r| r.split('@').next())
                            == Some(key.as_str())
                    })
                    .map(|(_, t)| t)
            })?
            .clone();
        let slot = t.slot.upgrade()?;
        Some((t, slot))
    }

    /// Call `call_id`, if it is bridged to an agent, and its media.
    pub fn find_call(&self, call_id: &str) -> Option<(Target, Arc<MediaSlot>)> {
        let m = self.by_agent.lock().ok()?;
        let t = m.values().find(|t| t.call_id == call_id)?.clone();
        let slot = t.slot.upgrade()?;
        Some((t, slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_codes_name_a_mode_and_an_agent() {
        assert_eq!(
            feature_code("*91alice"),
            Some((Mode::Listen, "alice".into()))
        );
        assert_eq!(feature_code("*92bob"), Some((Mode::Whisper, "bob".into())));
        assert_eq!(
            feature_code("*93 carol"),
            Some((Mode::Barge, "carol".into()))
        );
        assert_eq!(feature_code("*91"), None, "no agent named");
        assert_eq!(feature_code("support"), None);
        assert_eq!(feature_code("*94alice"), None);
    }
}
