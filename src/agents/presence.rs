//! Who an agent is to the ACD: how they are reached (a static URI, a registered phone, a
//! console), where they stand (offline, ready, ringing, busy, wrap-up) and what they chose.

use std::net::SocketAddr;
use std::time::Duration;

/// Where a registered SIP phone can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipContact {
    /// The Contact URI it registered.
    pub uri: String,
    /// The address the REGISTER came from (where requests are sent, RFC 3581 style).
    pub addr: SocketAddr,
    /// Calls go to it over TLS: it registered over TLS (its connection is reused while open),
    /// or its Contact is `sips:` or `;transport=tls`.
    pub tls: bool,
}

impl SipContact {
    /// A contact registered from `addr`; `over_tls`: the REGISTER came over TLS.
    pub fn new(uri: String, addr: SocketAddr, over_tls: bool) -> SipContact {
        let tls = over_tls || uri_wants_tls(&uri);
        SipContact { uri, addr, tls }
    }
}

/// Whether `uri` is `sips:` or says `;transport=tls` (an unparsable URI does not).
pub fn uri_wants_tls(uri: &str) -> bool {
    crate::sip::SipUri::parse(uri).is_ok_and(|u| u.wants_tls())
}

/// How an offered call reaches the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A SIP URI written in the config (always reachable; busy/decline answered by the phone).
    Static(String),
    /// A phone that registered with digest auth.
    Sip(SipContact),
    /// The agent's browser console (WebRTC softphone).
    Browser,
    /// A number called through an outbound trunk (`trunk:NAME/NUMBER` in the config).
    Trunk(crate::trunk::TrunkAgent),
}

impl Reach {
    /// Whether a call to the agent this way has encrypted signalling and media, as a queue
    /// with `require_srtp` asks: a SIP phone or static URI over TLS (we offer SDES-SRTP there
    /// and hang up an answer without it), or the browser console (WebRTC media is always
    /// DTLS-SRTP).
    pub fn secure(&self) -> bool {
        match self {
            Reach::Static(uri) => uri_wants_tls(uri),
            Reach::Sip(c) => c.tls,
            Reach::Browser => true,
            // Calls through a trunk are not offered SRTP (the config refuses them on such
            // queues).
            Reach::Trunk(_) => false,
        }
    }
}

/// An agent's state as the queues see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Not registered, no console, or the registration expired.
    Offline,
    /// Can take a call.
    Ready,
    /// Logged in but not taking calls.
    Away,
    /// A call is being offered.
    Ringing(String),
    /// On a call.
    Busy(String),
    /// After a call, until this time.
    WrapUp(Duration),
}

impl Presence {
    /// The word the console and the supervisor view show.
    pub fn word(&self) -> &'static str {
        match self {
            Presence::Offline => "offline",
            Presence::Ready => "ready",
            Presence::Away => "away",
            Presence::Ringing(_) => "ringing",
            Presence::Busy(_) => "busy",
            Presence::WrapUp(_) => "wrap_up",
        }
    }
}

/// What an agent chose in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WantedStatus {
    /// Take calls.
    Ready,
    /// Do not take calls.
    Away,
}

/// How an offer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingResult {
    /// The agent took the call.
    Answered,
    /// Declined, busy, failed or no answer before the ring timeout.
    Refused,
    /// The caller left while it rang.
    Withdrawn,
}

/// A caller to connect to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The waiting call.
    pub call_id: String,
    /// The agent's name (or static URI).
    pub agent: String,
    /// How to reach them.
    pub reach: Reach,
    /// Ready agents of the queue passed over for this caller because the queue requires SRTP
    /// and they cannot be reached securely (each named once per caller).
    pub skipped: Vec<String>,
}

/// One agent.
#[derive(Debug, Clone)]
pub struct AgentState {
    /// User name, or the URI for a static agent.
    pub name: String,
    /// Where they stand.
    pub presence: Presence,
    /// Since when they have been free (longest idle goes first).
    pub idle_since: Duration,
    /// Static URI from the config (`sip:`, `sips:`, or `trunk:NAME/NUMBER`).
    pub static_uri: Option<String>,
    /// Registered phone and when the registration expires.
    pub sip: Option<(SipContact, Duration)>,
    /// Open consoles.
    pub consoles: usize,
    /// What the agent chose in the console (phones alone are ready while registered).
    pub wanted: WantedStatus,
    /// Calls answered since the server started.
    pub calls_taken: u32,
    /// Another node sharing the store is ringing this agent or has them on a call.
    pub elsewhere: bool,
}

impl AgentState {
    /// How to ring them now, if at all.
    pub(super) fn reach(&self) -> Option<Reach> {
        if let Some(uri) = &self.static_uri {
            if let Some(t) = crate::trunk::TrunkAgent::parse(uri) {
                return Some(Reach::Trunk(t));
            }
            return Some(Reach::Static(uri.clone()));
        }
        if self.consoles > 0 {
            return Some(Reach::Browser);
        }
        self.sip.as_ref().map(|(c, _)| Reach::Sip(c.clone()))
    }

    /// Logged in somewhere (console, phone or static): counts as staffing its queues.
    pub fn staffed(&self) -> bool {
        !matches!(self.presence, Presence::Offline)
    }

    /// The presence an idle agent falls back to.
    pub(super) fn idle_presence(&self) -> Presence {
        if self.static_uri.is_some() {
            Presence::Ready
        } else if self.reach().is_none() {
            Presence::Offline
        } else if self.wanted == WantedStatus::Away {
            Presence::Away
        } else {
            Presence::Ready
        }
    }
}
