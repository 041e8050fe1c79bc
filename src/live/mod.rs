//! Calls in progress, as the API and the metrics see them. Call tasks update their entry; the HTTP
//! layer reads snapshots. One short lock per update, never per packet.

pub mod captions;
pub mod channel;
pub mod monitor;

pub use channel::Channel;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Where a call in progress is, as the API, the supervisor page and the web phone show it
/// (`ivr`, `queued`, `ringing_agent`, `bridged`, `message`, `saving`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Running its dialplan.
    Ivr,
    /// Handed over, waiting for an agent.
    Queued,
    /// An agent is being rung.
    RingingAgent,
    /// Talking to an agent.
    Bridged,
    /// Leaving a message (no agent could take the call).
    Message,
    /// Over; its record waits for the store to take it.
    Saving,
}

impl CallState {
    /// The state's name, as the JSON views write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Ivr => "ivr",
            CallState::Queued => "queued",
            CallState::RingingAgent => "ringing_agent",
            CallState::Bridged => "bridged",
            CallState::Message => "message",
            CallState::Saving => "saving",
        }
    }
}

/// What is known about a call in progress.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveCall {
    /// Call id (also the store's key once the call ends).
    pub id: String,
    /// SIP Call-ID of the caller's leg.
    pub sip_call_id: String,
    /// Caller (SIP From URI).
    pub caller: String,
    /// How the caller came in: `sip`, or `webrtc` for the `/phone` page.
    pub channel: Channel,
    /// Dialplan name.
    pub dialplan: String,
    /// The dialplan version the call runs on (a call keeps it when a new one is published).
    pub dialplan_version_id: i64,
    /// Where the call is: in the IVR, queued, ringing an agent, bridged…
    pub state: CallState,
    /// Current node.
    pub node: String,
    /// Nodes visited.
    pub path: Vec<String>,
    /// Keys pressed.
    pub dtmf: String,
    /// Escalation reason, once escalated.
    pub reason: Option<String>,
    /// Agent URI, once an agent leg exists.
    pub agent: Option<String>,
    /// Start, ms since the epoch.
    pub started_at_ms: i64,
    /// After the hand-off: the screen pop (reason in words, signals, path, transcript, earlier
    /// calls), so a SIP agent following the Call-Info link sees what a console agent sees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pop: Option<serde_json::Value>,
    /// A supervisor on the call, and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<monitor::Monitoring>,
}

/// The registry of calls in progress.
#[derive(Debug, Default)]
pub struct LiveCalls {
    calls: Mutex<BTreeMap<String, LiveCall>>,
    /// The supervisor board's requests to monitor these calls.
    pub monitor_desk: monitor::MonitorDesk,
}

impl LiveCalls {
    /// Adds or replaces a call.
    pub fn upsert(&self, call: LiveCall) {
        if let Ok(mut m) = self.calls.lock() {
            m.insert(call.id.clone(), call);
        }
    }

    /// Changes a call in place.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut LiveCall)) {
        if let Ok(mut m) = self.calls.lock() {
            if let Some(c) = m.get_mut(id) {
                f(c);
            }
        }
    }

    /// Removes a finished call.
    pub fn remove(&self, id: &str) {
        if let Ok(mut m) = self.calls.lock() {
            m.remove(id);
        }
    }

    /// A copy of one call.
    pub fn get(&self, id: &str) -> Option<LiveCall> {
        self.calls.lock().ok()?.get(id).cloned()
    }

    /// Copies of all calls.
    pub fn all(&self) -> Vec<LiveCall> {
        self.calls
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Number of calls in progress.
    pub fn len(&self) -> usize {
        self.calls.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when no call is in progress.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
