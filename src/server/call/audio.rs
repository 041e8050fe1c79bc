//! The caller's and the agent's RTP: what the caller hears on each 20 ms tick (prompts,
//! ringback, the agent, the message tone), what they said (jitter buffer, RFC 4733 and in-band
//! keys, recording), and the relay between the two legs once bridged.

use super::*;

impl CallTask {
    // ---- media ------------------------------------------------------------------------------

    pub(super) async fn on_caller_rtp(&mut self, buf: &[u8], from: std::net::SocketAddr) {
        let Some(p) = parse_rtp(buf) else {
            return;
        };
        if !self.caller.admit(from, p.ssrc).is_peer() {
            // Not the caller: its keys and audio are nobody's, and nothing goes back to it.
            self.sh.metrics.rtp_strangers_total.fetch_add(1, Relaxed);
            return;
        }
        self.sh.metrics.rtp_received_total.fetch_add(1, Relaxed);
        self.core.handle(self.now(), core::Input::CallerPacket);
        if Some(p.payload_type) == self.caller.dtmf_pt {
            if matches!(self.sound, Sound::Bridged) {
                if let Some(a) = &mut self.agent_rtp {
                    a.send_event(p.payload, p.marker).await;
                }
            }
            if let Some(d) = self.rfc4733.on_packet(p.timestamp, p.payload) {
                self.last_rfc_digit = Some(self.now());
                self.digit(d).await;
            }
            return;
        }
        if p.payload_type != self.caller.codec.payload_type() {
            return;
        }
        if matches!(self.sound, Sound::Bridged) {
            let mut pcm = [0i16; FRAME];
            let n = self.caller.codec.decode(p.payload, &mut pcm);
            if self.browser.is_some() {
                self.send_to_browser(&pcm[..n]).await;
            } else if let Some(a) = &mut self.agent_rtp {
                a.send_pcm(&pcm[..n], p.marker, &self.sh.metrics).await;
            }
        }
        self.jitter.push(p.sequence, p.payload);
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
        self.core
            .handle(self.started.elapsed(), core::Input::AgentPacket);
        self.sh.metrics.rtp_received_total.fetch_add(1, Relaxed);
        if self.core.briefing() && Some(p.payload_type) == a.dtmf_pt {
            if let Some(d) = self.brief_key(p.timestamp, p.payload) {
                self.input(core::Input::AgentDigit(d)).await;
            }
            return;
        }
        if p.payload_type != a.codec.payload_type() || !matches!(self.sound, Sound::Bridged) {
            return;
        }
        let n = a.codec.decode(p.payload, &mut self.line_frame);
        let pcm = self.line_frame;
        self.caller
            .send_pcm(&pcm[..n], p.marker, &self.sh.metrics)
            .await;
    }

    /// Every 20 ms while the caller's media runs: what the caller said, what they hear.
    pub(super) async fn on_tick(&mut self) {
        self.brief_tick().await;
        let mut heard = [0i16; FRAME];
        let got = match self.jitter.pop() {
            Some(payload) => {
                self.caller.codec.decode(payload, &mut heard);
                true
            }
            None => false,
        };
        if got {
            let holdoff = self
                .last_rfc_digit
                .is_some_and(|t| self.now() < t + INBAND_HOLDOFF);
            if let Some(d) = self.inband.push(&heard) {
                if !holdoff {
                    self.digit(d).await;
                }
            }
        }
        self.hear(got.then_some(&heard));
        if let Some((m, _)) = &mut self.message {
            m.push(&heard);
        }
        let mut line = [0i16; FRAME];
        let mut finished_prompt = None;
        let mut start_recording = false;
        let mut send = true;
        // "Connecting you" plays over ringback and hold music while the agents already ring;
        // the queue's own sounds wait for it (they do not advance meanwhile).
        let connecting = matches!(
            self.sound,
            Sound::Silence | Sound::Ringback(_) | Sound::Hold { .. }
        ) && next_of(&mut self.connecting, &mut line);
        if !connecting {
            match &mut self.sound {
                Sound::Silence | Sound::Recording => {}
                Sound::Prompt { id, player } => {
                    if !player.next_frame(&mut line) {
                        finished_prompt = Some(*id);
                    }
                }
                Sound::Ringback(player) => {
                    if !player.next_frame(&mut line) {
                        *player = Player::new(ringback(6000));
                        player.next_frame(&mut line);
                    }
                }
                Sound::Hold { intro, music } => {
                    if !next_of(intro, &mut line) && !music.next_frame(&mut line) {
                        *music = Player::new(hold_music());
                        music.next_frame(&mut line);
                    }
                }
                Sound::Bridged => {
                    line = self.line_frame;
                    self.line_frame = [0; FRAME];
                    send = false;
                }
                Sound::MessageIntro(players) => {
                    if !next_of(players, &mut line) {
                        start_recording = true;
                    }
                }
            }
        }
        if let Some((r, _)) = &mut self.recorder {
            r.push(&heard, &line);
        }
        if send {
            let marker = std::mem::take(&mut self.marker);
            self.caller.send_pcm(&line, marker, &self.sh.metrics).await;
        }
        if let Some(id) = finished_prompt {
            self.sound = Sound::Silence;
            self.pending.push_back(Event::PromptFinished { id });
        }
        if start_recording {
            self.start_recording();
            self.input(core::Input::RecordingStarted).await;
        }
    }

    /// A key from the caller's media (RFC 4733 or in-band): the core decides what it does.
    pub(super) async fn digit(&mut self, d: char) {
        self.input(core::Input::Digit(d)).await;
    }
}

/// The next 20 ms of a sequence of prompts, dropping each as it ends; `false` when all ended.
fn next_of(players: &mut VecDeque<Player>, out: &mut [i16; FRAME]) -> bool {
    while let Some(p) = players.front_mut() {
        if p.next_frame(out) {
            return true;
        }
        players.pop_front();
    }
    false
}
