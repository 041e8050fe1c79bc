//! Helpers of the `sip_load` benchmark: the server under test, a minimal SIP caller and agent,
//! kernel-timestamped UDP receive, the sipp load generator, /proc readings and the report.

pub mod agent;
pub mod netstamp;
pub mod probe;
pub mod report;
pub mod server;
pub mod sipp;
pub mod spoken;
pub mod sysinfo;
pub mod uac;
