//! A call bridged to a registered agent for the supervisor-monitoring tests, and what each
//! party hears: every party sends its own tone, and the audio each one receives is decoded
//! and measured at the others' frequencies.

use super::rawsip::{tone, tone_fraction, ulaw_to_linear, AgentAnswer, FakeAgent, Media, RawCall};
use super::server::{events, ServerOptions, TestServer};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const SEC: Duration = Duration::from_secs(1);
pub const PASSWORD: &str = "horse-42-battery";
pub const CALLER_HZ: f64 = 440.0;
pub const AGENT_HZ: f64 = 1000.0;
pub const SUPERVISOR_HZ: f64 = 1800.0;

/// A server whose support queue rings alice (agent); ann is another agent, sam a supervisor.
pub fn server() -> TestServer {
    TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            ("ann".into(), "agent".into(), PASSWORD.into()),
            ("sam".into(), "supervisor".into(), PASSWORD.into()),
        ],
        max_wait_seconds: 60.0,
        agent_rtp_timeout_seconds: 10.0,
        ..ServerOptions::default()
    })
}

/// Alice's phone registers; a caller presses 0 and alice answers: bridged.
pub fn bridged(server: &TestServer) -> (RawCall, FakeAgent) {
    let mut alice = FakeAgent::bind();
    let r = alice.register(server.sip_addr(), "alice", PASSWORD);
    assert_eq!(r.code(), 200, "alice registers: {}", r.raw);
    let mut c = RawCall::establish(server.sip_addr(), "support");
    c.media.send_silence(0.3);
    c.dtmf('0');
    alice
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("pressing 0 rings alice");
    alice
        .wait_request("ACK", 3 * SEC)
        .expect("our 200 is ACKed");
    alice.media.send_silence(0.3);
    let up = server.wait_for(5 * SEC, |s| {
        s.live_calls().into_iter().find(|l| l["state"] == "bridged")
    });
    assert!(up.is_some(), "bridged to alice:\n{}", server.log());
    (c, alice)
}

/// What one party received: its decoded audio.
pub struct Heard(pub Vec<i16>);

impl Heard {
    /// The share of the received audio's energy at `hz` (0 when nearly silent).
    pub fn share(&self, hz: f64) -> f64 {
        // Over 200 ms windows, the loudest half (a tone is steady; edges and gaps are not).
        let mut shares: Vec<f64> = self
            .0
            .chunks(1600)
            .filter(|w| w.len() == 1600)
            .map(|w| tone_fraction(w, hz))
            .collect();
        shares.sort_by(|a, b| b.total_cmp(a));
        let half = &shares[..shares.len().div_ceil(2)];
        if half.is_empty() {
            return 0.0;
        }
        half.iter().sum::<f64>() / half.len() as f64
    }

    pub fn hears(&self, hz: f64) -> bool {
        self.share(hz) > 0.15
    }
}

/// Decoded PCMU received on `sock` for `dur`.
fn receive(sock: &UdpSocket, dur: Duration) -> Heard {
    let deadline = Instant::now() + dur;
    let mut pcm = Vec::new();
    let mut buf = [0u8; 2048];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            if n > 12 && buf[1] & 0x7f == 0 {
                pcm.extend(buf[12..n].iter().map(|b| ulaw_to_linear(*b)));
            }
        }
    }
    Heard(pcm)
}

/// Every party sends its tone for `secs` while what each receives is kept (the first 300 ms
/// are left out: audio already on its way from before).
pub fn exchange(parties: &mut [(&mut Media, f64)], secs: f64) -> Vec<Heard> {
    for (m, _) in parties.iter() {
        m.drain();
    }
    std::thread::scope(|s| {
        let listeners: Vec<_> = parties
            .iter()
            .map(|(m, _)| {
                let sock = m.sock.try_clone().unwrap();
                s.spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    receive(&sock, Duration::from_secs_f64(secs - 0.4))
                })
            })
            .collect();
        for (m, hz) in parties.iter_mut() {
            let hz = *hz;
            let m: &mut Media = m;
            s.spawn(move || m.send_audio(&tone(hz, secs, 6000.0)));
        }
        listeners.into_iter().map(|l| l.join().unwrap()).collect()
    })
}

/// A supervisor's phone dialling `code` (`*91alice`…).
pub fn supervisor(server: &TestServer, code: &str) -> RawCall {
    RawCall::with_offer(server.sip_addr(), code, &[0, 101])
}

/// Sends silence from `media` every 20 ms until dropped (keeps a leg's RTP flowing while the
/// test waits on something else).
pub struct KeepTalking {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KeepTalking {
    pub fn start(media: &Media) -> KeepTalking {
        let sock = media.sock.try_clone().unwrap();
        let peer = media.peer.expect("the media peer is known");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (mut seq, mut ts) = (40_000u16, 900_000u32);
            while !flag.load(Ordering::Relaxed) {
                let mut p = vec![0x80, 0];
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&ts.to_be_bytes());
                p.extend_from_slice(&0x0bad_cafe_u32.to_be_bytes());
                p.extend(std::iter::repeat_n(0xffu8, 160));
                let _ = sock.send_to(&p, peer);
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        KeepTalking {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for KeepTalking {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Caller, agent and supervisor each send their own tone for `secs`: what each of them heard,
/// in that order.
pub fn three_way(
    caller: &mut Media,
    agent: &mut Media,
    supervisor: &mut Media,
    secs: f64,
) -> Vec<Heard> {
    exchange(
        &mut [
            (caller, CALLER_HZ),
            (agent, AGENT_HZ),
            (supervisor, SUPERVISOR_HZ),
        ],
        secs,
    )
}

/// The call goes on between caller and alice (each hears the other, nobody hears a
/// supervisor); then the caller hangs up, alice answers the server's BYE, and the stored
/// call is returned.
pub fn talk_then_hang_up(
    server: &TestServer,
    caller: &mut RawCall,
    alice: &mut FakeAgent,
) -> serde_json::Value {
    let after = exchange(
        &mut [(&mut caller.media, CALLER_HZ), (&mut alice.media, AGENT_HZ)],
        1.2,
    );
    assert!(after[0].hears(AGENT_HZ) && after[1].hears(CALLER_HZ));
    assert!(!after[0].hears(SUPERVISOR_HZ) && !after[1].hears(SUPERVISOR_HZ));
    caller.bye();
    if let Some(b) = alice.wait_request("BYE", 3 * SEC) {
        alice.reply(&b, 200, "OK");
    }
    server.wait_stored_calls(1, 15 * SEC).remove(0)
}

/// The stored call says sam joined in `first`, switched through `modes`, and left `why`.
pub fn assert_monitoring_stored(call: &serde_json::Value, first: &str, modes: &[&str], why: &str) {
    let joined = events(call, "monitor");
    assert_eq!(joined.len(), 1, "{call:#}");
    assert_eq!(joined[0]["detail"]["supervisor"], "sam", "{call:#}");
    assert_eq!(joined[0]["detail"]["mode"], first, "{call:#}");
    let switched: Vec<&str> = events(call, "monitor_mode")
        .iter()
        .filter_map(|e| e["detail"]["mode"].as_str())
        .collect();
    assert_eq!(switched, modes, "{call:#}");
    let left = events(call, "monitor_end");
    assert_eq!(left.len(), 1, "{call:#}");
    assert_eq!(left[0]["detail"]["why"], why, "{call:#}");
}
