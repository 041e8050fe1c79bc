//! The call's media as the shared clock ([`crate::media::net::clock`]) ticks it: every 20 ms
//! the next frame from the jitter buffer is decoded and heard (in-band keys, the listener,
//! the message recording), the next frame of what the caller hears is played, recorded and
//! sent. The call task shares this state with the clock behind one lock that neither holds
//! for longer than a packet: the task puts received packets in, says what plays, and relays
//! the agent's audio as it arrives; the clock takes a tick. What the clock finds that the
//! call must decide on (a key, speech, the end of a prompt) it leaves in [`MediaSlot`]'s
//! event list and wakes the task; no tick ever waits for the task.

use crate::media::net::{RtpLeg, Tick, Ticked, FRAME};
use crate::media::{
    Ended, Heard, InbandDetector, JitterBuffer, Listener, MonoRecorder, Playout, Recorder,
};
use crate::server::monitor::mix::{self, Monitor};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;

/// Something the clock found for the call task.
#[derive(Debug)]
pub(in crate::server) enum MediaEvent {
    /// An in-band key (RFC 4733 keys arrive in packets the task reads itself).
    Digit(char),
    /// What the listener noticed (speech started, a checkpoint, an utterance).
    Heard(Heard),
    /// A prompt or the message intro finished playing.
    Ended(Ended),
    /// Something to store among the call's events (a supervisor joined, switched, left).
    Note(&'static str, serde_json::Value),
}

/// The caller's media: their RTP leg, what they hear and what hears them.
pub(in crate::server) struct CallMedia {
    /// The caller's leg (the task reads its socket; sends go through here).
    pub caller: RtpLeg,
    /// What the caller hears.
    pub playout: Playout,
    /// The caller's audio, back in order.
    pub jitter: JitterBuffer,
    inband: InbandDetector,
    /// In-band keys are ignored until then: an RFC 4733 key was just heard (the same key,
    /// twice).
    pub inband_quiet_until: Option<Instant>,
    /// Voice activity and endpointing, while the IVR listens (dropped at the hand-off).
    pub listener: Option<Listener>,
    /// The IVR runs: frames go to the listener.
    pub listening: bool,
    /// The caller's media runs (answered, not over): the clock plays and sends.
    pub running: bool,
    /// The whole call, both directions.
    pub recorder: Option<(Recorder, PathBuf)>,
    /// The caller's message.
    pub message: Option<(MonoRecorder, PathBuf)>,
    /// The bridged agent's last frame, for the recording.
    pub agent_frame: [i16; FRAME],
    /// A supervisor on the bridged call ([`crate::server::monitor`]).
    pub monitor: Option<Monitor>,
    events: Vec<MediaEvent>,
    started: Instant,
}

impl CallMedia {
    /// The media of a call that started at `started`, on `caller`'s leg.
    pub fn new(
        caller: RtpLeg,
        jitter: JitterBuffer,
        listener: Option<Listener>,
        started: Instant,
    ) -> Self {
        CallMedia {
            caller,
            playout: Playout::new(),
            jitter,
            inband: InbandDetector::new(),
            inband_quiet_until: None,
            listener,
            listening: true,
            running: false,
            recorder: None,
            message: None,
            agent_frame: [0; FRAME],
            monitor: None,
            events: Vec::new(),
            started,
        }
    }

    /// One tick at `now`; whether a packet went out.
    fn tick(&mut self, now: Instant) -> bool {
        let mut heard = [0i16; FRAME];
        let got = match self.jitter.pop() {
            Some(payload) => {
                self.caller.codec.decode(payload, &mut heard);
                true
            }
            None => false,
        };
        if got {
            if let Some(d) = self.inband.push(&heard) {
                if self.inband_quiet_until.is_none_or(|t| now >= t) {
                    self.events.push(MediaEvent::Digit(d));
                }
            }
        }
        if self.listening {
            if let Some(l) = &mut self.listener {
                let at = now.saturating_duration_since(self.started);
                let noticed = if got {
                    l.push(at, &heard)
                } else {
                    l.push_missing(at)
                };
                if let Some(h) = noticed {
                    self.events.push(MediaEvent::Heard(h));
                }
            }
        }
        if let Some((m, _)) = &mut self.message {
            m.push(&heard);
        }
        let mut line = [0i16; FRAME];
        let frame = self.playout.next_frame(&mut line);
        if self.playout.is_bridged() {
            // The agent's audio went out as it came; the recording takes its last frame.
            line = std::mem::replace(&mut self.agent_frame, [0; FRAME]);
        }
        if let (Some(mon), true) = (&mut self.monitor, self.playout.is_bridged()) {
            // The supervisor hears both sides of this frame (never themselves); the recording
            // takes what the caller heard, a barging supervisor included.
            mon.leg
                .send_pcm_now(&mix::for_supervisor(&heard, &line), false);
            mon.add_barged(&mut line);
        }
        if let Some((r, _)) = &mut self.recorder {
            r.push(&heard, &line);
        }
        if let Some(e) = frame.ended {
            self.events.push(MediaEvent::Ended(e));
        }
        frame.send && self.caller.send_pcm_now(&line, frame.marker)
    }
}

/// A call's media as the clock and the call task share it.
pub(in crate::server) struct MediaSlot {
    media: Mutex<CallMedia>,
    /// Told when the clock left events for the task.
    wake: Notify,
}

impl MediaSlot {
    pub(in crate::server) fn new(media: CallMedia) -> Arc<Self> {
        Arc::new(MediaSlot {
            media: Mutex::new(media),
            wake: Notify::new(),
        })
    }

    /// The media, for a moment (never across an `.await`).
    pub fn lock(&self) -> MutexGuard<'_, CallMedia> {
        // A tick that panicked left the media as consistent as any packet does.
        self.media.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the clock leaves events (cancel-safe: a wake-up is kept until taken).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Leaves an event for the call task to store, and wakes it.
    pub fn note(&self, kind: &'static str, detail: serde_json::Value) {
        self.lock().events.push(MediaEvent::Note(kind, detail));
        self.wake.notify_one();
    }

    /// The events the clock left, oldest first.
    pub fn take_events(&self) -> Vec<MediaEvent> {
        std::mem::take(&mut self.lock().events)
    }
}

impl Ticked for MediaSlot {
    fn tick(&self, _due: Instant, now: Instant) -> Tick {
        let mut m = self.lock();
        if !m.running {
            return Tick::Idle;
        }
        let sent = m.tick(now);
        let wake = !m.events.is_empty();
        drop(m);
        if wake {
            self.wake.notify_one();
        }
        Tick::Played { sent }
    }
}
