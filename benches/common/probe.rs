//! Probe calls: our own callers placed among the load, each receiving the server's RTP on its
//! own socket with kernel arrival stamps, so lateness is seen where a caller would hear it.

use super::netstamp;
use super::uac::{is_timeout, UacCall};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// Inter-arrival gap above which a packet counts as late: 20 ms cadence + 10 ms.
pub const LATE_GAP_MS: f64 = 30.0;

/// A probe call in progress.
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<ProbeResult>,
}

/// What one probe saw.
#[derive(Debug, Clone, Default)]
pub struct ProbeResult {
    /// Why the call failed (set up, hung up by the server, BYE unanswered), if it did.
    pub error: Option<String>,
    /// Kernel arrival time of every RTP packet.
    pub arrivals: Vec<SystemTime>,
}

/// Arrival statistics of probes over a window.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct GapStats {
    /// Packets that arrived in the window.
    pub packets: u64,
    /// Gaps between consecutive packets over [`LATE_GAP_MS`].
    pub late: u64,
    /// The longest gap, ms.
    pub max_gap_ms: f64,
}

impl Probe {
    /// Places a call to `sip:<user>@<server>` on its own thread and records its RTP until
    /// [`stop`](Self::stop).
    pub fn start(server: SocketAddr, user: &str) -> std::io::Result<Probe> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let user = user.to_string();
        let thread = std::thread::Builder::new()
            .name("probe".into())
            .spawn(move || run(server, &user, &flag))?;
        Ok(Probe { stop, thread })
    }

    /// Hangs up and returns what the probe saw.
    pub fn stop(self) -> ProbeResult {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_else(|_| ProbeResult {
            error: Some("probe thread panicked".into()),
            arrivals: Vec::new(),
        })
    }
}

/// The probe's thread: call, receive until told to stop, hang up.
fn run(server: SocketAddr, user: &str, stop: &AtomicBool) -> ProbeResult {
    let mut out = ProbeResult::default();
    let mut call = match UacCall::new(server, user) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("sockets: {e}"));
            return out;
        }
    };
    if let Err(e) = call.invite(Duration::from_secs(10)) {
        out.error = Some(e);
        return out;
    }
    if let Err(e) = receive(&call, stop, &mut out.arrivals) {
        out.error = Some(e);
    }
    if let Err(e) = call.bye(Duration::from_secs(8)) {
        out.error.get_or_insert(e);
    }
    out
}

/// Records RTP arrivals until `stop`; answers SIP between packets.
fn receive(
    call: &UacCall,
    stop: &AtomicBool,
    arrivals: &mut Vec<SystemTime>,
) -> Result<(), String> {
    let mut buf = [0u8; 2048];
    call.rtp
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    while !stop.load(Ordering::Relaxed) {
        match netstamp::recv(&call.rtp, &mut buf) {
            Ok((n, _, at)) => {
                if humanline::media::parse_rtp(&buf[..n]).is_some() {
                    arrivals.push(at);
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(format!("RTP receive: {e}")),
        }
        if arrivals.len().is_multiple_of(25) && call.service().map_err(|e| e.to_string())? {
            return Err("the server hung up the probe call".into());
        }
    }
    Ok(())
}

/// Gaps between consecutive arrivals inside `[from, to]`, over all probes.
pub fn gaps(results: &[ProbeResult], from: SystemTime, to: SystemTime) -> GapStats {
    let mut s = GapStats::default();
    for r in results {
        let inside: Vec<SystemTime> = r
            .arrivals
            .iter()
            .copied()
            .filter(|t| *t >= from && *t <= to)
            .collect();
        s.packets += inside.len() as u64;
        for w in inside.windows(2) {
            let gap = netstamp::ms_between(w[0], w[1]);
            s.max_gap_ms = s.max_gap_ms.max(gap);
            if gap > LATE_GAP_MS {
                s.late += 1;
            }
        }
    }
    s
}
