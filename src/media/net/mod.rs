//! The RTP sockets: the port pool every leg binds from, and one leg (socket, peer address,
//! codec and our packet numbering). The only part of `media` that does IO.

pub mod ports;
mod rtp_leg;

pub use rtp_leg::{Admit, PeerTrust, RtpLeg, FRAME};
