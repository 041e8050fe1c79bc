//! What the core is told: its call's fixed facts ([`Config`]) and what happens ([`Input`]).

use super::super::super::handoff;
use super::CallerConfig;
use crate::agents::Reach;
use crate::engine::Event;
use crate::sip::sdes::Crypto;
use crate::sip::{LocalVia, SipMessage};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

/// What the core needs to know about its call, fixed when it starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// The call's id (store, live view, the agent's context).
    pub call_id: String,
    /// The call's URL in the API (`Call-Info` for the agent).
    pub call_url: String,
    /// Ringing time before the 200 OK.
    pub answer_delay: Duration,
    /// The caller's side.
    pub caller: CallerConfig,
    /// Our Via for agent legs (UDP).
    pub agent_via: LocalVia,
    /// Our Via for agent legs over TLS (the TLS listener's port); `None` without one, when
    /// no agent can be called over TLS.
    pub agent_via_tls: Option<LocalVia>,
    /// The agents a caller may be passed on to by name (the queues' members that are user
    /// names, not URIs).
    pub agents: BTreeSet<String>,
    /// The queues whose agents must answer with SRTP (`require_srtp`).
    pub srtp_queues: BTreeSet<String>,
    /// Per queue, the prefixes a callback's number must start with (`callback_numbers`;
    /// absent or empty: any number).
    pub callback_numbers: BTreeMap<String, Vec<String>>,
    /// The outbound trunks, for agents listed as `trunk:NAME/NUMBER`.
    pub trunks: std::sync::Arc<BTreeMap<String, crate::trunk::Trunk>>,
    /// No RTP from the caller this long: a media fault (or the end of a message).
    pub rtp_timeout: Duration,
    /// No RTP from a bridged agent this long: the agent's leg dropped.
    pub agent_rtp_timeout: Duration,
    /// The configured queues' timings.
    pub queues: BTreeMap<String, handoff::Rules>,
    /// The longest message, for a queue that is not configured.
    pub message_max: Duration,
}

/// What the shell feeds the core.
#[derive(Debug, Clone)]
pub enum Input {
    /// A SIP message on one of the call's Call-IDs, from `source`.
    Sip {
        /// The message.
        msg: SipMessage,
        /// Where it came from.
        source: SocketAddr,
    },
    /// The time from [`CallCore::poll_timeout`] came.
    Timer,
    /// An RTP packet from the caller was admitted.
    CallerPacket,
    /// Audio from the bridged (or ringing) agent arrived.
    AgentPacket,
    /// A key (RFC 4733 or in-band).
    Digit(char),
    /// A key the agent pressed (RFC 4733 on the agent's leg): 1 or 2 answers the brief.
    AgentDigit(char),
    /// For the engine: speech started, an utterance or partial text, a prompt finished, a
    /// lookup answered, a fault the shell found (a prompt that cannot play).
    Engine(Event),
    /// Whether the queue of the [`Output::Transfer`] just asked for has agents signed in.
    QueueStaffed(bool),
    /// The ACD offers the caller to an agent.
    Offered {
        /// Agent name.
        agent: String,
        /// How to reach them.
        reach: Reach,
        /// Ready agents passed over: the queue requires SRTP and they cannot do it.
        skipped: Vec<String>,
    },
    /// The agent's media is ready for [`Output::PrepareAgent`]: our SDP offer.
    AgentOffer {
        /// Agent name.
        agent: String,
        /// The agent's SIP URI.
        uri: String,
        /// Where to send (a registered phone), `None` to resolve `uri`.
        target: Option<SocketAddr>,
        /// Over TLS (with SRTP in the offer).
        tls: bool,
        /// Our SDP offer.
        sdp: String,
        /// The SDES keys in it (none: plain RTP).
        keys: Vec<Crypto>,
    },
    /// The agent could not be called at all (no port, no console, bad URI).
    DialFailed {
        /// Agent name.
        agent: String,
        /// Why, in words.
        why: String,
    },
    /// The browser agent's leg: answered, declined, hung up, dropped (the shell already
    /// stored what happened to it).
    Browser(handoff::Input),
    /// The bridged browser agent passes the caller on, with `notes` for the next agent.
    AgentTransfer {
        /// To a queue or an agent.
        to: crate::agents::PassTo,
        /// What the agent wrote down.
        notes: String,
    },
    /// The apology and the tone played: the caller's message is being recorded.
    RecordingStarted,
    /// An utterance went to the recogniser as `job`; its text is due by `deadline`.
    RecognitionStarted {
        /// The shell's id for the job.
        job: u64,
        /// Call time by which the text must come.
        deadline: Duration,
    },
    /// The recogniser answered `job` (text or failure; the shell feeds the engine).
    RecognitionEnded {
        /// The job.
        job: u64,
    },
    /// The queue's estimate of the caller's wait (after joining, with each announcement).
    WaitEstimate(Duration),
    /// The booked callback's confirmation plays for this long; then the line hangs up.
    CallbackConfirming(Duration),
    /// The booked callback could not be stored: the caller goes back to the queue.
    CallbackNotStored,
    /// The consult call an attended transfer named is gone (or not this server's): the
    /// REFER fails and the call stays with its agent.
    ConsultMissing,
    /// The server stops: end the call now.
    Shutdown,
}
