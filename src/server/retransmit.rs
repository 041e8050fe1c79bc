//! Moved to [`crate::sip::transaction::timer`]; this shim keeps `server::call` compiling until
//! the call core adopts [`crate::sip::transaction::ServerInvite`], which owns the 2xx and 487
//! retransmission schedules itself. Remove it then.

pub use crate::sip::transaction::timer::{Due, Retransmit, T1, T2};
