//! What the core asks of its shell ([`Output`]) and how a call ended ([`Ending`]).

use super::super::super::agent_leg::{Hop, SrtpKeys};
use crate::agents::RingResult;
use crate::engine::{Action, Outcome, Reason, TransferContext};
use crate::sip::Negotiated;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What the shell must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// SIP bytes for the caller (on its transport).
    ToCaller(Vec<u8>),
    /// SIP bytes back to where the request being answered came from.
    ToSource(Vec<u8>),
    /// SIP bytes for an agent's phone (UDP, or TLS on its connection).
    ToAgent {
        /// Where, and over what.
        target: Hop,
        /// What.
        bytes: Vec<u8>,
    },
    /// Messages on this SIP Call-ID belong to this call too (an agent leg).
    Route(String),
    /// A request on the caller's Call-ID that was not the caller's (answered 481).
    Stranger {
        /// Its method.
        method: String,
        /// Its source.
        source: SocketAddr,
    },
    /// Store this with the call: its kind and details.
    Event(&'static str, serde_json::Value),
    /// The call is answered: start the media.
    Answered,
    /// The caller's ACK came: its media may go to its SDP address.
    CallerConfirmed,
    /// The caller's re-INVITE changed its media (hold, resume, a new address).
    CallerMedia(Negotiated),
    /// The engine's instruction for the media and IO side: `Play`, `PlayText`,
    /// `StopPlayback`, `Listen`, `EndTurnAfter`, `Lookup`, `Trace` (never `WakeAt`,
    /// `Transfer` or `Hangup`, which the core carries out).
    Engine(Action),
    /// A key the caller pressed, as it may be shown (masked in sensitive input).
    Key(char),
    /// The engine handed the caller to `queue`: announce it (metrics, "connecting" prompts,
    /// live view) and answer with [`Input::QueueStaffed`].
    Transfer {
        /// Queue name.
        queue: String,
        /// Why.
        reason: Option<Reason>,
        /// Prompts while the agents ring.
        announce: Vec<String>,
        /// Slower prompts.
        elderly: bool,
    },
    /// An agent passed the caller on to `queue`: say whether it is staffed
    /// ([`Input::QueueStaffed`](super::Input::QueueStaffed)); the hand-off starts again there.
    Requeue {
        /// The new queue.
        queue: String,
    },
    /// Publish the screen pop in the live view (and again after a requeue).
    PublishPop,
    /// Join the ACD's queue (at its head after a dropped agent leg).
    JoinQueue {
        /// Queue name.
        queue: String,
        /// At the head.
        head: bool,
        /// Passed on to this agent by name: offered to them alone at first.
        agent: Option<String>,
    },
    /// Leave the ACD's queue (no more offers).
    LeaveQueue,
    /// The caller hears ringback.
    Ringback,
    /// The caller hears position and wait, then hold music.
    Announce,
    /// Bind RTP for a SIP agent and answer [`Input::AgentOffer`] (or [`Input::DialFailed`]).
    PrepareAgent {
        /// Agent name.
        agent: String,
        /// SIP URI.
        uri: String,
        /// A registered phone's address.
        target: Option<SocketAddr>,
        /// Called over TLS: offer SRTP.
        tls: bool,
    },
    /// Offer the call to a browser agent's console.
    DialBrowser {
        /// Agent name.
        agent: String,
    },
    /// An agent is being rung (live view).
    RingingAgent {
        /// Agent name.
        agent: String,
    },
    /// The SIP agent answered: its media.
    AgentMedia {
        /// The agreed media.
        negotiated: Negotiated,
        /// The agent's SIP address (its RTP may come from there).
        signalling: IpAddr,
        /// The SRTP keys agreed (ours, the agent's), when its media is SRTP.
        srtp: Option<SrtpKeys>,
    },
    /// End the browser leg, if any (`by`: who ended it, for the console).
    EndBrowser {
        /// `caller` or `line`.
        by: &'static str,
    },
    /// Tell the ACD how an offer ended.
    RingEnded {
        /// Agent name.
        agent: String,
        /// How.
        result: RingResult,
    },
    /// Warm transfer: speak the brief to the agent who answered (the caller keeps hearing
    /// ringback, hold music or the "connecting" words); stop it at [`Output::Bridge`] or
    /// when the agent's leg ends.
    BriefAgent {
        /// Who answered.
        agent: String,
        /// How long they have to choose, from now.
        choose_within: Duration,
    },
    /// Connect the caller and the agent.
    Bridge {
        /// Who answered.
        agent: Option<String>,
    },
    /// The agent's part is over (wrap-up).
    AgentDone {
        /// Agent name.
        agent: String,
        /// Time bridged.
        talked: Duration,
        /// The leg dropped rather than hung up.
        dropped: bool,
    },
    /// Apologise, beep, then record the caller's message ([`Input::RecordingStarted`]).
    StartMessage,
    /// Attended transfer: the bridged agent's REFER replaces their consult call (SIP Call-ID
    /// `replaces`, as their phone knows it): take the consulted agent's leg from it and hand
    /// it over ([`CallCore::consult_taken`], or [`Input::ConsultMissing`]).
    TakeConsult {
        /// The consult call's Call-ID.
        replaces: String,
    },
    /// The consulted agent is on the call now (the agent leg and its media are theirs).
    AgentSwapped {
        /// The agent now bridged.
        agent: String,
    },
    /// Speak the callback offer to the waiting caller, then hold music: press 1 or say yes
    /// to be called back at `number` (the caller's ID, when it is a number), 3 to key another
    /// number, 2 to keep waiting. `keying`: ask for the number to be keyed, then #.
    OfferCallback {
        /// The number a callback would go to, when the caller ID gives one.
        number: Option<String>,
        /// Ask the caller to key their number now.
        keying: bool,
    },
    /// The caller booked a callback: store it, then speak the confirmation and say how long
    /// it plays ([`Input::CallbackConfirming`]); the line hangs up after it.
    BookCallback {
        /// The queue whose agents call back.
        queue: String,
        /// The number to call.
        number: String,
        /// When the caller joined the queue (call time): the callback keeps that place.
        queued_at: Option<Duration>,
    },
    /// The recognition `job` missed its deadline: drop it (its answer no longer matters).
    AbandonRecognition(u64),
    /// The call is over for the caller: close the media, store the record.
    Finished(Box<Ending>),
}

/// How a call ended, for its stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    /// Why, in words.
    pub why: String,
    /// The engine's outcome (`Hangup` for a call never answered).
    pub outcome: Outcome,
    /// Reason, signals, path, transcript.
    pub context: TransferContext,
    /// The agent who answered, if one did.
    pub agent: Option<String>,
    /// Time spent in the queue.
    pub queue_wait: Option<Duration>,
    /// Keys pressed, as shown.
    pub dtmf: String,
    /// When it ended (call time).
    pub at: Duration,
}
