//! What the hub sends out: messages for agents' consoles, a browser agent's replies, and the
//! snapshot the supervisor page draws.

use serde::Serialize;
use tokio::sync::mpsc;

/// A message for an agent's console (sent as JSON over its WebSocket).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToConsole {
    /// The agent's state changed.
    Status {
        /// `offline`, `ready`, `away`, `ringing`, `busy` or `wrap_up`.
        status: String,
        /// End of wrap-up, ms since the epoch.
        wrap_up_until_ms: Option<i64>,
    },
    /// A call rings in the console: the server's SDP offer and the screen pop.
    Offer {
        /// Call id.
        call_id: String,
        /// WebRTC SDP offer (PCMU).
        sdp: String,
        /// Who is calling and why (see the console's screen pop).
        pop: serde_json::Value,
    },
    /// Stop ringing: the caller left or the ring timed out.
    Cancel {
        /// Call id.
        call_id: String,
    },
    /// The call ended.
    Ended {
        /// Call id.
        call_id: String,
        /// `caller`, `agent` or `line`.
        by: String,
    },
    /// How the agent's consult call (before an attended transfer) stands.
    Consult {
        /// The call whose caller waits on hold meanwhile.
        call_id: String,
        /// The agent consulted.
        agent: String,
        /// `ringing`, `talking`, `ended` (back to the caller) or `failed`.
        state: String,
        /// Why it ended or failed, in words.
        why: String,
    },
}

/// What a browser agent did with an offered call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserReply {
    /// Accepted, with the browser's SDP answer.
    Answer {
        /// SDP answer.
        sdp: String,
    },
    /// Declined.
    Decline,
    /// Hung up (while talking).
    HangUp,
    /// Passes the caller (while talking) to another queue or agent, with notes for the next
    /// agent.
    Transfer {
        /// Where to.
        to: PassTo,
        /// What the agent wrote down.
        notes: String,
    },
    /// Puts the caller on hold and calls `agent`'s phone to talk first (attended transfer).
    Consult {
        /// The agent to consult.
        agent: String,
    },
    /// Ends the consult: `complete` hands the caller to the consulted agent, else back to the
    /// caller.
    ConsultEnd {
        /// Hand the caller over.
        complete: bool,
    },
}

/// Where an agent passes a caller on to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassTo {
    /// A queue: its agents, longest idle first.
    Queue(String),
    /// One agent by name (a queue member): rung alone at first, then the caller's queue.
    Agent(String),
}

impl PassTo {
    /// The queue's or the agent's name.
    pub fn name(&self) -> &str {
        match self {
            PassTo::Queue(n) | PassTo::Agent(n) => n,
        }
    }
}

/// An open console.
#[derive(Debug)]
pub struct ConsoleAttachment {
    /// Pass back to [`super::AgentHub::console_detach`].
    pub id: u64,
    /// Messages for this console.
    pub rx: mpsc::UnboundedReceiver<ToConsole>,
}

/// An agent as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    /// Name (or static URI).
    pub name: String,
    /// Presence word.
    pub status: String,
    /// `static`, `sip`, `browser` or none.
    pub reach: Option<String>,
    /// Seconds free (ready agents), else 0.
    pub idle_s: f64,
    /// The call ringing or in progress.
    pub call_id: Option<String>,
    /// Queues answered.
    pub queues: Vec<String>,
    /// Calls answered since the server started.
    pub calls_taken: u32,
    /// Ringing or on a call on another node sharing the store.
    pub busy_elsewhere: bool,
}

/// A waiting caller as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingView {
    /// Call id.
    pub call_id: String,
    /// 1-based position in its queue.
    pub position: usize,
    /// Seconds waited.
    pub waited_s: f64,
    /// Put back at the head after a dropped agent leg.
    pub requeued: bool,
    /// Agent being rung, if any.
    pub ringing: Option<String>,
}

/// A queue as the supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    /// Queue name.
    pub name: String,
    /// Someone is logged in to answer it.
    pub staffed: bool,
    /// Callers waiting, in order.
    pub waiting: Vec<WaitingView>,
}

/// Agents and queues right now.
#[derive(Debug, Clone, Serialize)]
pub struct HubSnapshot {
    /// Every known agent.
    pub agents: Vec<AgentView>,
    /// Every queue.
    pub queues: Vec<QueueView>,
}
