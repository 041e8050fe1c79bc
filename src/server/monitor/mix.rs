//! What each leg of a monitored call hears. A supervisor on a bridged call is a third leg:
//!
//! | mode    | supervisor hears | agent hears          | caller hears         |
//! |---------|------------------|----------------------|----------------------|
//! | listen  | caller + agent   | caller               | agent                |
//! | whisper | caller + agent   | caller + supervisor  | agent                |
//! | barge   | caller + agent   | caller + supervisor  | agent + supervisor   |
//!
//! Caller and agent still reach each other packet by packet as they arrive; the supervisor's
//! audio waits here, a few frames at most, and is added to the next frame relayed to the agent
//! (whisper, barge) and to the caller (barge). What the supervisor hears is mixed on the media
//! clock's tick from the caller's frame and the agent's last frame, the two the call's
//! recording takes. Sans-IO: frames in, frames out.

use crate::media::net::{RtpLeg, FRAME};
use std::collections::VecDeque;

/// Most supervisor frames kept for a leg that sends nothing to carry them (100 ms): older ones
/// are dropped rather than heard late.
pub const MAX_WAITING_FRAMES: usize = 5;

pub use crate::live::monitor::Mode;

/// The supervisor's leg on a monitored call, kept with the call's media.
#[derive(Debug)]
pub struct Monitor {
    /// This monitoring session (another supervisor's, later, is another).
    pub id: u32,
    /// The supervisor's RTP leg (the clock sends on it; the supervisor's task reads it).
    pub leg: RtpLeg,
    /// Who monitors (the user name they authenticated as).
    pub supervisor: String,
    mode: Mode,
    to_agent: VecDeque<[i16; FRAME]>,
    to_caller: VecDeque<[i16; FRAME]>,
    /// The supervisor's frame last added to the caller's audio, for the call's recording.
    barged: Option<[i16; FRAME]>,
}

impl Monitor {
    /// `supervisor` on `leg`, starting in `mode`.
    pub fn new(leg: RtpLeg, supervisor: String, mode: Mode) -> Monitor {
        Monitor {
            id: crate::ids::random_u32(),
            leg,
            supervisor,
            mode,
            to_agent: VecDeque::new(),
            to_caller: VecDeque::new(),
            barged: None,
        }
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches to `mode`; audio waiting for a leg that no longer hears the supervisor is
    /// dropped. Whether the mode changed.
    pub fn set_mode(&mut self, mode: Mode) -> bool {
        if !mode.to_agent() {
            self.to_agent.clear();
        }
        if !mode.to_caller() {
            self.to_caller.clear();
        }
        std::mem::replace(&mut self.mode, mode) != mode
    }

    /// A frame the supervisor said: kept for the legs that hear them now.
    pub fn heard(&mut self, pcm: &[i16]) {
        let mut frame = [0i16; FRAME];
        let n = pcm.len().min(FRAME);
        frame[..n].copy_from_slice(&pcm[..n]);
        for (on, q) in [
            (self.mode.to_agent(), &mut self.to_agent),
            (self.mode.to_caller(), &mut self.to_caller),
        ] {
            if on {
                if q.len() == MAX_WAITING_FRAMES {
                    q.pop_front();
                }
                q.push_back(frame);
            }
        }
    }

    /// Adds the supervisor's next frame for the agent (if any) to `pcm`, relayed to the agent.
    pub fn into_agent(&mut self, pcm: &mut [i16]) {
        if let Some(f) = self.to_agent.pop_front() {
            add(pcm, &f);
        }
    }

    /// Adds the supervisor's next frame for the caller (if any) to `pcm`, relayed to the
    /// caller.
    pub fn into_caller(&mut self, pcm: &mut [i16]) {
        if let Some(f) = self.to_caller.pop_front() {
            add(pcm, &f);
            self.barged = Some(f);
        }
    }

    /// Adds what the caller last heard of the supervisor to `line` (the line side of the
    /// call's recording), once.
    pub fn add_barged(&mut self, line: &mut [i16; FRAME]) {
        if let Some(f) = self.barged.take() {
            add(line, &f);
        }
    }
}

/// What the supervisor hears in one frame: the caller's and the agent's audio together.
pub fn for_supervisor(caller: &[i16; FRAME], agent: &[i16; FRAME]) -> [i16; FRAME] {
    let mut out = *caller;
    add(&mut out, agent);
    out
}

/// `into[i] += from[i]`, clipped to the sample range.
fn add(into: &mut [i16], from: &[i16]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.saturating_add(*b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::net::{PeerTrust, RtpSocket};
    use crate::sip::Negotiated;
    use std::sync::Arc;

    fn leg() -> RtpLeg {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        let socket = Arc::new(RtpSocket::new(tokio::net::UdpSocket::from_std(s).unwrap()).unwrap());
        let n = Negotiated {
            remote_addr: "127.0.0.1:9".parse().unwrap(),
            codec_pt: 0,
            dtmf_pt: Some(101),
            direction: crate::sip::Direction::SendRecv,
            ptime: None,
        };
        RtpLeg::on(
            socket,
            &n,
            PeerTrust {
                signalling: None,
                behind_proxy: false,
                private_targets: true,
            },
        )
    }

    fn frame(v: i16) -> [i16; FRAME] {
        [v; FRAME]
    }

    #[test]
    fn keys_pick_modes_and_only_whisper_and_barge_reach_the_agent() {
        assert_eq!(Mode::from_key('1'), Some(Mode::Listen));
        assert_eq!(Mode::from_key('2'), Some(Mode::Whisper));
        assert_eq!(Mode::from_key('3'), Some(Mode::Barge));
        assert_eq!(Mode::from_key('0'), None);
        assert_eq!(
            Mode::ALL.map(|m| (m.to_agent(), m.to_caller())),
            [(false, false), (true, false), (true, true)]
        );
        assert_eq!("Barge".parse::<Mode>(), Ok(Mode::Barge));
        assert!("shout".parse::<Mode>().is_err());
    }

    #[tokio::test]
    async fn listening_adds_nothing_to_either_side() {
        let mut m = Monitor::new(leg(), "sam".into(), Mode::Listen);
        m.heard(&frame(1000));
        let (mut a, mut c) = (frame(5), frame(7));
        m.into_agent(&mut a);
        m.into_caller(&mut c);
        assert_eq!((a, c), (frame(5), frame(7)));
    }

    #[tokio::test]
    async fn a_whisper_reaches_the_agent_once_and_never_the_caller() {
        let mut m = Monitor::new(leg(), "sam".into(), Mode::Whisper);
        m.heard(&frame(1000));
        let (mut a, mut c) = (frame(5), frame(7));
        m.into_agent(&mut a);
        m.into_caller(&mut c);
        assert_eq!((a, c), (frame(1005), frame(7)));
        let mut again = frame(5);
        m.into_agent(&mut again);
        assert_eq!(again, frame(5), "each frame is heard once");
    }

    #[tokio::test]
    async fn barging_reaches_both_and_mixing_clips_instead_of_wrapping() {
        let mut m = Monitor::new(leg(), "sam".into(), Mode::Barge);
        m.heard(&frame(30_000));
        let (mut a, mut c) = (frame(10_000), frame(-100));
        m.into_agent(&mut a);
        m.into_caller(&mut c);
        assert_eq!((a, c), (frame(i16::MAX), frame(29_900)));
        let mut line = frame(-100);
        m.add_barged(&mut line);
        assert_eq!(
            line,
            frame(29_900),
            "the recording takes what the caller heard"
        );
        m.add_barged(&mut line);
        assert_eq!(line, frame(29_900), "once");
    }

    #[tokio::test]
    async fn a_leg_that_sends_nothing_keeps_only_the_last_few_frames() {
        let mut m = Monitor::new(leg(), "sam".into(), Mode::Whisper);
        for v in 1..=8 {
            m.heard(&frame(v));
        }
        let mut got = Vec::new();
        for _ in 0..8 {
            let mut a = frame(0);
            m.into_agent(&mut a);
            got.push(a[0]);
        }
        assert_eq!(got, [4, 5, 6, 7, 8, 0, 0, 0]);
    }

    #[tokio::test]
    async fn switching_back_to_listen_drops_what_was_waiting() {
        let mut m = Monitor::new(leg(), "sam".into(), Mode::Barge);
        m.heard(&frame(1000));
        assert!(m.set_mode(Mode::Listen));
        assert!(!m.set_mode(Mode::Listen), "no change");
        let (mut a, mut c) = (frame(0), frame(0));
        m.into_agent(&mut a);
        m.into_caller(&mut c);
        assert_eq!((a, c), (frame(0), frame(0)));
    }

    #[test]
    fn the_supervisor_hears_both_sides_together() {
        assert_eq!(for_supervisor(&frame(100), &frame(-30)), frame(70));
    }
}
