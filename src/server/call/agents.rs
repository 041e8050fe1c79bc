//! After the engine hands the caller over, the media side of the hand-off: the queue
//! announcements and hold music, the agent leg's RTP port and SDP offer, the message prompt,
//! tone and recording. The core decides when each happens.

use super::*;

/// Positions and minutes above this are spoken as this many (prompts exist for 1 to 20).
const MAX_SPOKEN: usize = 20;

impl CallTask {
    /// Position and expected wait, in the plan's language, then music on hold.
    pub(super) fn announce(&mut self) {
        let mut intro = VecDeque::new();
        if let Some((pos, wait)) = self.sh.agents.position(&self.id) {
            let minutes = (wait.as_secs_f64() / 60.0)
                .ceil()
                .clamp(1.0, MAX_SPOKEN as f64) as usize;
            let pos = pos.min(MAX_SPOKEN);
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
                    Ok(p) => intro.push_back(Player::new(p)),
                    Err(e) => tracing::warn!("announcement prompt {w}: {e}"),
                }
            }
            self.caption_prompts(&words);
            self.event(
                "announced",
                json!({ "position": pos, "wait_minutes": minutes }),
            );
        }
        self.sound = Sound::Hold {
            intro,
            music: Player::new(hold_music()),
        };
        self.marker = true;
    }

    /// Our SDP offer for an agent's phone, on the agent leg's RTP port (bound once per call).
    pub(super) async fn agent_offer(&mut self) -> anyhow::Result<String> {
        if self.agent_rtp.is_none() {
            let socket = self.sh.ports.bind(self.sh.config.sip.bind.ip()).await?;
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
            self.agent_rtp = Some(RtpLeg::new(socket, &placeholder, trust));
        }
        let port = self
            .agent_rtp
            .as_ref()
            .map(|l| l.socket.local_addr().map(|a| a.port()))
            .transpose()?
            .unwrap_or(0);
        Ok(sdp::offer(self.sh.media_ip(), port, self.session_id))
    }

    pub(super) fn start_message(&mut self) {
        let mut intro = VecDeque::new();
        if let Ok(p) = self.prompt_now(MESSAGE_PROMPT, self.handoff_pace()) {
            intro.push_back(Player::new(p));
            self.caption_prompts(&[MESSAGE_PROMPT]);
        }
        intro.push_back(Player::new(tone(1000.0, 400, 8000)));
        self.sound = Sound::MessageIntro(intro);
        self.marker = true;
        self.sh
            .live
            .update(&self.id, |c| c.state = crate::live::CallState::Message);
        self.event("message_prompt", json!({}));
    }

    pub(super) fn start_recording(&mut self) {
        self.sound = Sound::Recording;
        let path = self.recording_file("-message");
        match MonoRecorder::create(&path) {
            Ok(r) => {
                self.message_path = Some(path.display().to_string());
                self.message = Some((r, path));
                self.event("message_recording", json!({}));
            }
            Err(e) => tracing::error!(
                "cannot record the caller's message to {}: {e}",
                path.display()
            ),
        }
    }
}
