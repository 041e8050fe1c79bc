//! SRTP for one RTP leg keyed by SDES (RFC 3711, RFC 4568): our key protects what we send,
//! the peer's key checks and opens what it sends. Sans-IO: packets in, packets out; the leg
//! ([`crate::media::net::RtpLeg`]) calls it at its socket so the rest of the media code only
//! ever sees plain RTP.
//!
//! Incoming packets must carry a valid authentication tag and must not be replays (a 64-packet
//! window per SSRC); anything else is an error and the caller drops the packet. Uses the
//! `rtc-srtp` crate of the WebRTC stack (ring's AES and HMAC-SHA1).

use crate::sip::sdes::{Crypto, Suite};
use rtc_srtp::context::Context;
use rtc_srtp::protection_profile::ProtectionProfile;
use sync_wrapper::SyncWrapper;

/// Packets remembered per SSRC against replays (RFC 3711 §3.3.2 suggests at least 64).
const REPLAY_WINDOW: usize = 64;

/// Why a packet could not be protected or opened, or a session not made.
#[derive(Debug, thiserror::Error)]
#[error("SRTP: {0}")]
pub struct SrtpError(String);

/// Both directions of one SRTP session.
///
/// The contexts are used only through `&mut self`; [`SyncWrapper`] lets the leg that owns
/// them live in a call task shared by reference across awaits, without a lock per packet.
pub struct SrtpSession {
    outbound: SyncWrapper<Context>,
    inbound: SyncWrapper<Context>,
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpSession(..)")
    }
}

impl SrtpSession {
    /// A session sending under `ours` and receiving under `theirs` (the suite is the one of
    /// the offer's line we chose; RFC 4568 §6.1 has both directions use it).
    pub fn new(ours: &Crypto, theirs: &Crypto) -> Result<SrtpSession, SrtpError> {
        let provider =
            rtc_srtp::crypto::default_provider().map_err(|e| SrtpError(e.to_string()))?;
        let make = |c: &Crypto, replay: bool| {
            Context::new(
                &c.key.key,
                &c.key.salt,
                profile(theirs.suite),
                replay.then(|| rtc_srtp::option::srtp_replay_protection(REPLAY_WINDOW)),
                replay.then(|| rtc_srtp::option::srtcp_replay_protection(REPLAY_WINDOW)),
                provider.crypto(),
            )
            .map_err(|e| SrtpError(e.to_string()))
        };
        Ok(SrtpSession {
            outbound: SyncWrapper::new(make(ours, false)?),
            inbound: SyncWrapper::new(make(theirs, true)?),
        })
    }

    /// Encrypts and signs one RTP packet of ours.
    pub fn protect(&mut self, rtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.outbound
            .get_mut()
            .encrypt_rtp(rtp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError(e.to_string()))
    }

    /// Checks and decrypts one SRTP packet of the peer's into plain RTP.
    pub fn unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.inbound
            .get_mut()
            .decrypt_rtp(srtp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError(e.to_string()))
    }

    /// Encrypts and signs one RTCP compound packet of ours.
    pub fn protect_rtcp(&mut self, rtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.outbound
            .get_mut()
            .encrypt_rtcp(rtcp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError(e.to_string()))
    }

    /// Checks and decrypts one SRTCP packet of the peer's.
    pub fn unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.inbound
            .get_mut()
            .decrypt_rtcp(srtcp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError(e.to_string()))
    }
}

fn profile(s: Suite) -> ProtectionProfile {
    match s {
        Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
    }
}

#[cfg(test)]
#[path = "srtp_tests.rs"]
mod tests;
