//! SRTP for one RTP leg keyed by SDES (RFC 3711, RFC 4568): our key protects what we send,
//! the peer's key checks and opens what it sends. Sans-IO: packets in, packets out; the leg
//! ([`crate::media::net::RtpLeg`]) calls it at its socket so the rest of the media code only
//! ever sees plain RTP.
//!
//! Incoming packets must carry a valid authentication tag and must not be replays (a 64-packet
//! window per SSRC); anything else is an error and the caller drops the packet. Uses the
//! `rtc-srtp` crate of the WebRTC stack (ring's AES and HMAC-SHA1) for the cipher, with three
//! guards of our own found by the fuzz targets:
//! - the replay window is ours ([`ReplayWindow`]) and moves only once a packet authenticated:
//!   rtc-srtp's starts its window at the first packet it *checks*, so one forged packet could
//!   make the caller's real ones "too old";
//! - an SRTCP packet with the E bit clear is refused: rtc-srtp returns those without checking
//!   their tag (RFC 3711 §3.4 makes SRTCP authentication mandatory; we never agree to
//!   `UNENCRYPTED_SRTCP`);
//! - at most [`MAX_SSRCS`] distinct SSRCs are ever tried: rtc-srtp keeps state for every SSRC
//!   it is shown, authenticated or not.
//!
//! Cost: one allocation per packet each way (rtc-srtp's output buffer, handed over without a
//! copy), where the plain RTP path allocates none.

use crate::sip::sdes::{Crypto, Suite};
use rtc_srtp::context::Context;
use rtc_srtp::protection_profile::ProtectionProfile;
use sync_wrapper::SyncWrapper;

/// Packets remembered per SSRC against replays (RFC 3711 §3.3.2 suggests at least 64).
const REPLAY_WINDOW: u64 = 64;
/// Distinct SSRCs one session tries to open (a phone uses one, maybe a second after a change).
pub const MAX_SSRCS: usize = 8;
/// Bytes of the SRTCP index word (E bit and 31-bit index) before the tag.
const SRTCP_INDEX_LEN: usize = 4;
/// Bytes of the SRTCP tag (both suites: 80 bits).
const SRTCP_TAG_LEN: usize = 10;

/// Why a packet could not be protected or opened, or a session not made.
#[derive(Debug, thiserror::Error)]
#[error("SRTP: {0}")]
pub struct SrtpError(String);

/// Both directions of one SRTP session.
///
/// The contexts are used only through `&mut self`; [`SyncWrapper`] lets the leg that owns
/// them live in a call task shared by reference across awaits, without a lock per packet.
pub struct SrtpSession {
    /// Our key (we send under it) and the peer's (it sends under it), as agreed in SDP.
    keys: (Crypto, Crypto),
    outbound: SyncWrapper<Context>,
    inbound: SyncWrapper<Context>,
    /// Replay windows of the SSRCs tried so far (at most [`MAX_SSRCS`]); a window is empty
    /// until a packet of its SSRC authenticated.
    windows: Vec<(u32, ReplayWindow)>,
}

/// Which extended sequence numbers (RFC 3711 §3.3.1 index) of one SSRC were accepted: the
/// highest one and a bit mask of the [`REPLAY_WINDOW`] before it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayWindow {
    top: Option<u64>,
    mask: u64,
}

impl ReplayWindow {
    /// The extended index of `seq`: the one closest to the highest accepted (RFC 3711 §3.3.1).
    pub fn index(&self, seq: u16) -> u64 {
        let Some(top) = self.top else {
            return u64::from(seq);
        };
        let base = top & !0xffff;
        [
            base.checked_sub(0x10000),
            Some(base),
            base.checked_add(0x10000),
        ]
        .into_iter()
        .flatten()
        .map(|b| b | u64::from(seq))
        .min_by_key(|i| i.abs_diff(top))
        .unwrap_or(u64::from(seq))
    }

    /// Whether `index` is new: above the highest, or inside the window and not seen.
    pub fn fresh(&self, index: u64) -> bool {
        match self.top {
            None => true,
            Some(top) if index > top => true,
            Some(top) => {
                let back = top - index;
                back < REPLAY_WINDOW && self.mask & (1 << back) == 0
            }
        }
    }

    /// Records `index` as received (call only after it authenticated and was [`fresh`]).
    ///
    /// [`fresh`]: ReplayWindow::fresh
    pub fn accept(&mut self, index: u64) {
        match self.top {
            Some(top) if index <= top => self.mask |= 1 << (top - index),
            Some(top) => {
                let shift = index - top;
                self.mask = if shift >= REPLAY_WINDOW {
                    0
                } else {
                    self.mask << shift
                };
                self.mask |= 1;
                self.top = Some(index);
            }
            None => {
                self.mask = 1;
                self.top = Some(index);
            }
        }
    }
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
                // Replays of RTP are caught by our own window (see the module doc).
                None,
                replay.then(|| rtc_srtp::option::srtcp_replay_protection(REPLAY_WINDOW as usize)),
                provider.crypto(),
            )
            .map_err(|e| SrtpError(e.to_string()))
        };
        Ok(SrtpSession {
            keys: (ours.clone(), theirs.clone()),
            outbound: SyncWrapper::new(make(ours, false)?),
            inbound: SyncWrapper::new(make(theirs, true)?),
            windows: Vec::new(),
        })
    }

    /// Our key and the peer's, as the session was made with them (a re-INVITE's answer repeats
    /// ours).
    pub fn keys(&self) -> (&Crypto, &Crypto) {
        (&self.keys.0, &self.keys.1)
    }

    /// Encrypts and signs one RTP packet of ours.
    pub fn protect(&mut self, rtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.outbound
            .get_mut()
            .encrypt_rtp(rtp)
            .map(Vec::from)
            .map_err(|e| SrtpError(e.to_string()))
    }

    /// Checks and decrypts one SRTP packet of the peer's into plain RTP.
    pub fn unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        if srtp.len() < 12 || srtp[0] >> 6 != 2 {
            return Err(SrtpError("not RTP version 2".into()));
        }
        let seq = u16::from_be_bytes([srtp[2], srtp[3]]);
        let ssrc = u32::from_be_bytes([srtp[8], srtp[9], srtp[10], srtp[11]]);
        let slot = match self.windows.iter().position(|(s, _)| *s == ssrc) {
            Some(i) => i,
            None if self.windows.len() < MAX_SSRCS => {
                self.windows.push((ssrc, ReplayWindow::default()));
                self.windows.len() - 1
            }
            None => return Err(SrtpError(format!("SSRC {ssrc:08x}: too many SSRCs"))),
        };
        let index = self.windows[slot].1.index(seq);
        if !self.windows[slot].1.fresh(index) {
            return Err(SrtpError(format!(
                "SSRC {ssrc:08x} index {index}: a replay"
            )));
        }
        let plain = self
            .inbound
            .get_mut()
            .decrypt_rtp(srtp)
            .map_err(|e| SrtpError(e.to_string()))?;
        self.windows[slot].1.accept(index);
        Ok(Vec::from(plain))
    }

    /// Encrypts and signs one RTCP compound packet of ours.
    pub fn protect_rtcp(&mut self, rtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.outbound
            .get_mut()
            .encrypt_rtcp(rtcp)
            .map(Vec::from)
            .map_err(|e| SrtpError(e.to_string()))
    }

    /// Checks and decrypts one SRTCP packet of the peer's.
    pub fn unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let e_bit = srtcp
            .len()
            .checked_sub(SRTCP_TAG_LEN + SRTCP_INDEX_LEN)
            .and_then(|i| srtcp.get(i))
            .map(|b| b >> 7);
        if e_bit != Some(1) {
            return Err(SrtpError(
                "SRTCP not encrypted (E bit clear) or too short".into(),
            ));
        }
        self.inbound
            .get_mut()
            .decrypt_rtcp(srtcp)
            .map(Vec::from)
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

#[cfg(test)]
#[path = "srtp_fuzz_tests.rs"]
mod fuzz_tests;
