//! The RTP sockets: the port pool every leg binds from, one leg (socket, peer address, codec
//! and our packet numbering), and the shared media clock that ticks every call's playout. The
//! only part of `media` that does IO.

pub mod clock;
pub mod ports;
mod rtp_leg;
mod socket;

pub use clock::{MediaClock, Tick, Ticked};
pub use rtp_leg::{Admit, PeerTrust, RtpLeg, FRAME};
pub use socket::RtpSocket;
