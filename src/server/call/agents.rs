//! After the engine hands the caller over, the media side of the hand-off: the queue
//! announcements and hold music, the agent leg's RTP port and SDP offer (SDES-SRTP over TLS),
//! its SIP on the agent's transport, the message prompt, tone and recording. The core decides
//! when each happens.

use super::*;
use crate::server::agent_leg::{offer_keys, Hop, SrtpKeys};
use crate::sip::sdes::Crypto;

/// Positions and minutes above this are spoken as this many (prompts exist for 1 to 20).
const MAX_SPOKEN: usize = 20;

impl CallTask {
    /// Position and expected wait, in the call's language, then music on hold. The words are
    /// the operator's `queue_status` text (`queue_status_one` for one minute) with
    /// `{position}` and `{minutes}` filled, spoken by the speech engine (spoken variables)
    /// beside the call ([`jobs::Done::Announcement`]; what played goes on meanwhile); at the
    /// elderly pace, or when that text is missing or cannot be spoken, the recorded words and
    /// numbers are joined instead (they have slow renderings).
    pub(super) fn announce(&mut self) {
        self.announcement += 1;
        let Some((pos, wait)) = self.sh.agents.position(&self.id) else {
            self.media.lock().playout.hold([]);
            return;
        };
        let now = self.now();
        self.core.handle(now, core::Input::WaitEstimate(wait));
        if self.core.listens_for_callback() {
            // The estimate brought the callback offer: it speaks instead.
            return;
        }
        let minutes = (wait.as_secs_f64() / 60.0)
            .ceil()
            .clamp(1.0, MAX_SPOKEN as f64) as usize;
        let pos = pos.min(MAX_SPOKEN);
        if self.handoff_pace() == crate::media::Pace::Slow {
            return self.announced(self.announcement, pos, minutes, None);
        }
        let lang = self.core.engine().language().code();
        let cache = Arc::clone(&self.sh.prompts);
        let seq = self.announcement;
        self.jobs.spawn(async move {
            let made =
                tokio::task::spawn_blocking(move || spoken_status(&cache, lang, pos, minutes));
            jobs::Done::Announcement {
                seq,
                position: pos,
                minutes,
                spoken: made.await.ok().flatten(),
            }
        });
    }

    /// Tells the core how long the caller may wait, unless an agent is being offered them
    /// already (a long estimate brings the callback offer).
    pub(super) fn tell_wait_estimate(&mut self) {
        if let Some(wait) = self.sh.agents.wait_estimate(&self.id) {
            let now = self.now();
            self.core.handle(now, core::Input::WaitEstimate(wait));
        }
    }

    /// The announcement `seq` is ready (`spoken`: the words from the speech engine, or `None`
    /// for the recorded ones): it plays, then music on hold, unless the call moved on since
    /// (ringing an agent, bridged, the message, a newer announcement).
    pub(super) fn announced(
        &mut self,
        seq: u64,
        pos: usize,
        minutes: usize,
        spoken: Option<(String, crate::media::Prompt)>,
    ) {
        if seq != self.announcement {
            return;
        }
        let mut intro = Vec::new();
        let how = if let Some((text, prompt)) = spoken {
            intro.push(prompt);
            self.caption(crate::live::captions::Caption::line(&text));
            "spoken"
        } else {
            let unit = if minutes == 1 {
                "queue_minute"
            } else {
                "queue_minutes"
            };
            let words = [
                "queue_position".to_string(),
                format!("num_{pos}"),
                "queue_in_line".to_string(),
                "queue_estimate".to_string(),
                format!("num_{minutes}"),
                unit.to_string(),
            ];
            let pace = self.handoff_pace();
            for w in &words {
                match self.prompt_now(w, pace) {
                    Ok(p) => intro.push(p),
                    Err(e) => tracing::warn!("announcement prompt {w}: {e}"),
                }
            }
            self.caption_prompts(&words);
            "recorded"
        };
        self.event(
            "announced",
            json!({ "position": pos, "wait_minutes": minutes, "words": how }),
        );
        self.media.lock().playout.hold(intro);
    }

    /// Our SDP offer for an agent's phone, on the agent leg's RTP port (bound once per call;
    /// each agent starts a fresh leg on it: no source, no keys, nothing latched from the one
    /// before). Over TLS the offer is `RTP/SAVP` with fresh SDES keys, returned with it.
    pub(super) async fn agent_offer(&mut self, tls: bool) -> anyhow::Result<(String, Vec<Crypto>)> {
        let socket = match self.agent_rtp.take() {
            Some(leg) => leg.socket,
            None => std::sync::Arc::new(crate::media::net::RtpSocket::new(
                self.sh.ports.bind(self.sh.config.sip.bind.ip()).await?,
            )?),
        };
        let port = socket.local_addr()?.port();
        let placeholder = crate::sip::Negotiated {
            codec_pt: 0,
            dtmf_pt: None,
            remote_addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            direction: crate::sip::Direction::SendRecv,
            ptime: None,
        };
        // No source is allowed until the agent answers with its SDP.
        let trust = crate::media::net::PeerTrust {
            signalling: None,
            behind_proxy: false,
            private_targets: self.sh.config.media.allow_private_targets,
        };
        self.agent_rtp = Some(RtpLeg::on(socket, &placeholder, trust));
        let ip = self.sh.media_ip();
        if !tls {
            return Ok((sdp::offer(ip, port, self.session_id), Vec::new()));
        }
        let keys = offer_keys()
            .map_err(|e| anyhow::anyhow!("no SRTP keys from the OS random source: {e}"))?;
        Ok((sdp::offer_secure(ip, port, self.session_id, &keys), keys))
    }

    /// SIP bytes for an agent's phone: UDP, or TLS on its connection (opened if none is).
    pub(super) async fn to_agent(&self, hop: &Hop, bytes: Vec<u8>) {
        let peer = match &hop.tls {
            None => Some(Peer::Udp(hop.addr)),
            Some(t) => self.sh.transport.tls_peer(hop.addr, t.connect, &t.name),
        };
        match peer {
            Some(p) => self.sh.transport.send(&p, bytes).await,
            None => tracing::warn!(to = %hop.addr, "no TLS listener: SIP to the agent dropped"),
        }
    }

    /// The agent answered: its media address and codec, the source its RTP may come from, and
    /// the SRTP keys agreed (every packet to and from it protected from now on).
    pub(super) fn agent_media(
        &mut self,
        negotiated: &crate::sip::Negotiated,
        signalling: std::net::IpAddr,
        srtp: Option<SrtpKeys>,
    ) {
        let Some(a) = &mut self.agent_rtp else {
            return;
        };
        a.renegotiate(negotiated);
        a.allow_source(signalling);
        if let Some((ours, theirs)) = srtp {
            match crate::media::SrtpSession::new(&ours, &theirs) {
                Ok(s) => a.set_srtp(s),
                Err(e) => {
                    // Never plain RTP where SRTP was agreed: the leg stays silent and drops.
                    tracing::error!("the agent's SRTP cannot be set up, nothing is sent: {e}");
                    a.send = false;
                    return;
                }
            }
        }
        // The agent's answer came from its SIP address.
        a.confirm();
    }

    pub(super) fn start_message(&mut self) {
        self.announcement += 1;
        let mut intro = Vec::new();
        if let Ok(p) = self.prompt_now(MESSAGE_PROMPT, self.handoff_pace()) {
            intro.push(p);
            self.caption_prompts(&[MESSAGE_PROMPT]);
        }
        intro.push(tone(1000.0, 400, 8000));
        self.media.lock().playout.message_intro(intro);
        self.sh
            .live
            .update(&self.id, |c| c.state = crate::live::CallState::Message);
        self.event("message_prompt", json!({}));
    }

    /// The message tone played: the caller's words go to a file from the next tick on.
    pub(super) fn start_recording(&mut self) {
        let path = self.recording_file("-message");
        match MonoRecorder::create(&path) {
            Ok(r) => {
                self.message_path = Some(path.display().to_string());
                self.media.lock().message = Some((r, path));
                self.event("message_recording", json!({}));
            }
            Err(e) => tracing::error!(
                "cannot record the caller's message to {}: {e}",
                path.display()
            ),
        }
    }
}

/// The `queue_status` text of `lang` with `position` and `minutes` filled, and its audio from
/// the speech engine (blocking: run it off the async threads; the same words are kept and
/// cost nothing the next time). `None` when there is no such text or it cannot be spoken.
fn spoken_status(
    cache: &crate::media::PromptCache,
    lang: &str,
    position: usize,
    minutes: usize,
) -> Option<(String, crate::media::Prompt)> {
    let name = if minutes == 1 {
        "queue_status_one"
    } else {
        "queue_status"
    };
    let file = cache.root().join(lang).join(format!("{name}.txt"));
    let template = std::fs::read_to_string(file).ok()?;
    let text = crate::text::spoken::render(template.trim(), lang, |v| match v {
        "position" => Some(position.to_string()),
        "minutes" => Some(minutes.to_string()),
        _ => None,
    });
    match cache.get_spoken(lang, &text) {
        Ok(p) => Some((text, p)),
        Err(e) => {
            tracing::warn!("queue announcement cannot be spoken, using the recorded words: {e}");
            None
        }
    }
}
