//! Agents and queues: who can take a call (static SIP URIs from the config, phones that
//! registered with digest auth, consoles open in a browser), who waits for whom, and the order
//! in which callers meet agents.
//!
//! [`acd`] holds the rules (sans-IO, fake-time tests), with [`queue_order`] for the callers
//! waiting on other nodes; [`hub`] shares them with the call tasks,
//! the registrar and the consoles over channels. Must not touch sockets, SIP or media: a call
//! task rings the agent the hub names, the hub only decides who.

pub mod acd;
pub mod hub;
pub mod presence;
pub mod queue_order;

pub use acd::{Offer, Presence, Reach, RingResult, SipContact, WantedStatus};
pub use hub::{
    AgentHub, AgentView, BrowserReply, ConsoleAttachment, HubSnapshot, PassTo, QueueView,
    ToConsole, WaitingView,
};
pub use presence::uri_wants_tls;
