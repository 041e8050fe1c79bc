//! The caller's and the agent's RTP as they arrive: what the caller said goes into the jitter
//! buffer (the media clock hears it on its next tick) and RFC 4733 keys to the core; once
//! bridged, each leg's audio is relayed to the other as it comes, not on the tick.

use super::*;

impl CallTask {
    // ---- media ------------------------------------------------------------------------------

    /// Reads what the caller's RTP socket holds. The buffer lives only while packets are
    /// read, not in the call's future for its whole life.
    pub(super) async fn read_caller(&mut self) {
        let mut buf = [0u8; 2048];
        // A few at a time: a flood must not keep the call from its other work.
        for _ in 0..8 {
            match self.caller_socket.try_recv_from(&mut buf) {
                Ok((n, from)) => self.on_caller_rtp(&buf[..n], from).await,
                Err(_) => break,
            }
        }
    }

    /// A datagram on the caller's RTP socket.
    pub(super) async fn on_caller_rtp(&mut self, buf: &[u8], from: std::net::SocketAddr) {
        let Some(got) = self.take_caller_packet(buf, from) else {
            return;
        };
        self.core.handle(self.now(), core::Input::CallerPacket);
        match got {
            FromCaller::Key {
                payload,
                len,
                timestamp,
                marker,
                bridged,
            } => {
                let payload = &payload[..len];
                if bridged {
                    if let Some(a) = &mut self.agent_rtp {
                        a.send_event(payload, marker).await;
                    }
                }
                if let Some(d) = self.rfc4733.on_packet(timestamp, payload) {
                    // The same key may follow in-band: not heard twice.
                    self.media.lock().inband_quiet_until = Some(Instant::now() + INBAND_HOLDOFF);
                    self.digit(d).await;
                }
            }
            FromCaller::Relay { pcm, len, marker } => {
                if self.browser.is_some() {
                    self.send_to_browser(&pcm[..len]).await;
                } else if let Some(a) = &mut self.agent_rtp {
                    a.send_pcm(&pcm[..len], marker, &self.sh.metrics).await;
                }
            }
            FromCaller::Heard => {}
        }
    }

    /// Opens and admits a caller packet and puts its audio in the jitter buffer (one short
    /// hold of the media lock); what else it carries is for [`on_caller_rtp`].
    ///
    /// [`on_caller_rtp`]: Self::on_caller_rtp
    fn take_caller_packet(&self, buf: &[u8], from: std::net::SocketAddr) -> Option<FromCaller> {
        let metrics = &self.sh.metrics;
        let mut m = self.media.lock();
        let opened = m.caller.open(buf, from, metrics)?;
        let p = parse_rtp(&opened)?;
        if !m.caller.admit(from, p.ssrc).is_peer() {
            // Not the caller: its keys and audio are nobody's, and nothing goes back to it.
            metrics.rtp_strangers_total.fetch_add(1, Relaxed);
            return None;
        }
        metrics.rtp_received_total.fetch_add(1, Relaxed);
        let bridged = m.playout.is_bridged();
        if Some(p.payload_type) == m.caller.dtmf_pt {
            let mut payload = [0u8; 64];
            let len = p.payload.len().min(payload.len());
            payload[..len].copy_from_slice(&p.payload[..len]);
            return Some(FromCaller::Key {
                payload,
                len,
                timestamp: p.timestamp,
                marker: p.marker,
                bridged,
            });
        }
        if p.payload_type != m.caller.codec.payload_type() {
            return Some(FromCaller::Heard);
        }
        m.jitter.push(p.sequence, p.payload);
        if !bridged {
            return Some(FromCaller::Heard);
        }
        let mut pcm = [0i16; FRAME];
        let len = m.caller.codec.decode(p.payload, &mut pcm);
        if let Some(mon) = &mut m.monitor {
            // A whispering or barging supervisor: the agent hears them with the caller.
            mon.into_agent(&mut pcm[..len]);
        }
        Some(FromCaller::Relay {
            pcm,
            len,
            marker: p.marker,
        })
    }

    pub(super) async fn on_agent_rtp(&mut self, buf: &[u8], from: std::net::SocketAddr) {
        let Some(a) = &mut self.agent_rtp else {
            return;
        };
        // Plain RTP from here on (an SRTP leg checked and decrypted it, or dropped it).
        let Some(buf) = a.open(buf, from, &self.sh.metrics) else {
            return;
        };
        let Some(p) = parse_rtp(&buf) else {
            return;
        };
        if !a.admit(from, p.ssrc).is_peer() {
            self.sh.metrics.rtp_strangers_total.fetch_add(1, Relaxed);
            return;
        }
        let (codec, dtmf_pt) = (a.codec, a.dtmf_pt);
        self.core
            .handle(self.started.elapsed(), core::Input::AgentPacket);
        self.sh.metrics.rtp_received_total.fetch_add(1, Relaxed);
        if self.core.briefing() && Some(p.payload_type) == dtmf_pt {
            if let Some(d) = self.brief_key(p.timestamp, p.payload) {
                self.input(core::Input::AgentDigit(d)).await;
            }
            return;
        }
        if p.payload_type != codec.payload_type() {
            return;
        }
        let mut pcm = [0i16; FRAME];
        let n = codec.decode(p.payload, &mut pcm);
        self.relay_to_caller(&pcm[..n], p.marker);
    }

    /// The bridged agent's audio to the caller, as it arrives (and kept for the recording);
    /// nothing before the bridge.
    pub(super) fn relay_to_caller(&self, pcm: &[i16], marker: bool) {
        let mut m = self.media.lock();
        if !m.playout.is_bridged() {
            return;
        }
        let n = pcm.len().min(FRAME);
        m.agent_frame[..n].copy_from_slice(&pcm[..n]);
        m.agent_frame[n..].fill(0);
        let mut frame = m.agent_frame;
        if let Some(mon) = &mut m.monitor {
            // A barging supervisor: the caller hears them with the agent.
            mon.into_caller(&mut frame[..n]);
        }
        if m.caller.send_pcm_now(&frame[..n], marker) {
            self.sh.metrics.rtp_sent_total.fetch_add(1, Relaxed);
        }
    }

    /// A key from the caller's media (RFC 4733 or in-band): the core decides what it does.
    pub(super) async fn digit(&mut self, d: char) {
        self.input(core::Input::Digit(d)).await;
    }
}

/// What a caller packet brought, besides its audio for the jitter buffer.
#[allow(clippy::large_enum_variant)] // one on the stack per packet, never stored
enum FromCaller {
    /// An RFC 4733 event (its payload, at most 64 bytes kept: 16 events).
    Key {
        payload: [u8; 64],
        len: usize,
        timestamp: u32,
        marker: bool,
        bridged: bool,
    },
    /// Audio to relay to the bridged agent.
    Relay {
        pcm: [i16; FRAME],
        len: usize,
        marker: bool,
    },
    /// Nothing more (audio for the clock, or another payload type).
    Heard,
}
