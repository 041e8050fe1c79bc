//! A caller with a voice: one call from the raw UAC that sends a 20 ms PCMU frame each time it
//! is ticked — the current clip's, else silence, like a phone — or an RFC 4733 key in their
//! place. It stamps when the last voiced frame of each clip left: the end of the caller's words.

use super::clips::{Clip, FRAME};
use crate::common::uac::UacCall;
use humanline::media::{rfc4733_payload, Codec, RtpSender};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Telephone-event payload type offered by the UAC.
const DTMF_PT: u8 = 101;
/// Frames a key occupies: one start packet, two end packets.
const KEY_FRAMES: usize = 3;

/// What the caller is sending now.
enum Sending {
    Silence,
    Clip { clip: Arc<Clip>, frame: usize },
    Key { key: char, frame: usize },
}

/// One clip said on the call.
#[derive(Debug, Clone)]
pub struct Said {
    /// The clip.
    pub clip: Arc<Clip>,
    /// When its last voiced frame left the UAC (wall clock, comparable with kernel stamps).
    pub words_ended: Option<SystemTime>,
    /// When its first frame left the UAC.
    pub started: Option<SystemTime>,
}

impl Said {
    /// When the words ended, or would have: a call handed over while the caller was still
    /// speaking stops sending, so the end is reckoned from the start and the clip's length
    /// (the latency is then negative: the agent rang before the caller stopped).
    pub fn words_end(&self) -> Option<SystemTime> {
        self.words_ended.or_else(|| {
            self.started.map(|t| {
                t + std::time::Duration::from_millis(20 * self.clip.last_voiced_frame as u64)
            })
        })
    }
}

/// An answered call that talks.
pub struct VoiceCall {
    /// The SIP side (its Call-ID names the call in the server's live view).
    pub uac: UacCall,
    to: SocketAddr,
    rtp: RtpSender,
    sending: Sending,
    payload: [u8; FRAME],
    /// Every clip begun, in order.
    pub said: Vec<Said>,
}

impl VoiceCall {
    /// Calls `sip:<user>@server` and waits for the answer.
    pub fn dial(server: SocketAddr, user: &str) -> anyhow::Result<VoiceCall> {
        let mut uac = UacCall::new(server, user)?;
        let answered = uac
            .invite(Duration::from_secs(5))
            .map_err(anyhow::Error::msg)?;
        let ssrc = 0x766f_0000 | u32::from(uac.rtp.local_addr()?.port());
        Ok(VoiceCall {
            uac,
            to: answered.server_rtp,
            rtp: RtpSender::new(ssrc, 0, 1000, 8000),
            sending: Sending::Silence,
            payload: [0xFF; FRAME],
            said: Vec::new(),
        })
    }

    /// Like [`VoiceCall::dial`], but a `503` (the server's overload guard, which trips on a
    /// machine shared with other work) is tried again a second later, up to `tries` times.
    pub fn dial_patiently(
        server: SocketAddr,
        user: &str,
        tries: usize,
    ) -> anyhow::Result<VoiceCall> {
        let mut last = None;
        for _ in 0..tries.max(1) {
            match VoiceCall::dial(server, user) {
                Err(e) if format!("{e}").contains("503") => {
                    last = Some(e);
                    std::thread::sleep(Duration::from_secs(1));
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no try")))
    }

    /// Starts saying `clip` at the next tick (cutting off whatever was being sent).
    pub fn say(&mut self, clip: &Arc<Clip>) {
        self.said.push(Said {
            clip: Arc::clone(clip),
            words_ended: None,
            started: None,
        });
        self.sending = Sending::Clip {
            clip: Arc::clone(clip),
            frame: 0,
        };
    }

    /// Presses `key` (RFC 4733) at the next tick.
    pub fn press(&mut self, key: char) {
        self.sending = Sending::Key { key, frame: 0 };
    }

    /// Whether a clip or key is still being sent.
    pub fn busy(&self) -> bool {
        !matches!(self.sending, Sending::Silence)
    }

    /// Sends the next 20 ms: a frame of the clip or key under way, else silence.
    pub fn tick(&mut self) -> std::io::Result<()> {
        let (pcm, marker, words_end, finished) = match &mut self.sending {
            Sending::Silence => ([0i16; FRAME], false, false, false),
            Sending::Key { .. } => return self.key_frame(),
            Sending::Clip { clip, frame } => {
                let out = (
                    clip.frame(*frame),
                    *frame == 0,
                    *frame == clip.last_voiced_frame,
                    *frame + 1 >= clip.frames(),
                );
                *frame += 1;
                out
            }
        };
        Codec::Pcmu.encode(&pcm, &mut self.payload);
        let packet = self.rtp.packet(&self.payload, marker, FRAME as u32);
        self.uac.rtp.send_to(packet, self.to)?;
        if marker || words_end {
            if let Some(s) = self.said.last_mut() {
                let now = SystemTime::now();
                if marker && s.started.is_none() {
                    s.started = Some(now);
                }
                if words_end {
                    s.words_ended = Some(now);
                }
            }
        }
        if finished {
            self.sending = Sending::Silence;
        }
        Ok(())
    }

    /// One packet of the key under way: a start packet (marker), then two end packets, all
    /// with the event's timestamp, which moves on by the event's length afterwards.
    fn key_frame(&mut self) -> std::io::Result<()> {
        let Sending::Key { key, frame } = &mut self.sending else {
            return Ok(());
        };
        let (end, duration) = if *frame == 0 {
            (false, 160)
        } else {
            (true, 480)
        };
        let payload = rfc4733_payload(*key, end, 10, duration).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a DTMF key")
        })?;
        let packet = self.rtp.event_packet(DTMF_PT, &payload, *frame == 0);
        self.uac.rtp.send_to(packet, self.to)?;
        *frame += 1;
        if *frame >= KEY_FRAMES {
            self.rtp.advance_timestamp((KEY_FRAMES * FRAME) as u32);
            self.sending = Sending::Silence;
        }
        Ok(())
    }

    /// Answers what the server sent (ACK retransmissions, BYE); whether the server hung up.
    pub fn service(&self) -> std::io::Result<bool> {
        self.uac.service()
    }

    /// Hangs up (BYE until its 200, at most 3 s).
    pub fn hang_up(mut self) -> anyhow::Result<()> {
        self.uac
            .bye(Duration::from_secs(3))
            .map_err(anyhow::Error::msg)
    }
}
