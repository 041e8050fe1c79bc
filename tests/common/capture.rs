//! What actually crossed the loopback: `dumpcap` (from the tshark package) captures UDP on `lo`
//! into a classic pcap file, and a small reader here turns it into (time, ports, payload) so that
//! tests can parse RTP headers themselves. Capturing needs root (or dumpcap's capabilities).
#![allow(dead_code)]

use std::io::{BufReader, Read};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One UDP datagram seen on the wire.
#[derive(Debug, Clone)]
pub struct Packet {
    /// Capture time, seconds since the Unix epoch.
    pub time: f64,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// UDP payload.
    pub payload: Vec<u8>,
}

/// A capture in progress on `lo`.
///
/// dumpcap says "Capturing on" a little before packets really flow, and hands packets over from
/// the kernel in batches. So the capture also takes datagrams to a probe port of its own, and
/// watches dumpcap's running count ("Packets: N"): `start` returns once a probe was counted,
/// `stop` sends one more probe and stops only once it is counted, so that nothing the test sent
/// before is still queued. Probe datagrams are left out of the packets returned.
pub struct Capture {
    child: Child,
    path: PathBuf,
    progress: mpsc::Receiver<String>,
    said: Vec<String>,
    counted: u64,
    probe: UdpSocket,
    probe_port: u16,
}

impl Capture {
    /// Starts capturing `filter` (BPF, e.g. `udp dst port 4000 or udp dst port 4002`) into `path`
    /// and returns once packets are being captured (at most 10 s).
    pub fn start(filter: &str, path: &Path) -> Capture {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind the capture probe socket");
        let probe_port = probe.local_addr().expect("probe address").port();
        let mut child = Command::new("dumpcap")
            .args(["-i", "lo", "-P", "-f"])
            .arg(format!("({filter}) or (udp dst port {probe_port})"))
            .arg("-w")
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run dumpcap ({e}): install tshark (scripts/setup.sh)")
            });
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("dumpcap stderr");
        std::thread::spawn(move || {
            // Progress lines end in \r, the others in \n.
            let mut line = Vec::new();
            for b in BufReader::new(err).bytes().map_while(Result::ok) {
                if b == b'\r' || b == b'\n' {
                    if !line.is_empty() {
                        let text = String::from_utf8_lossy(&line).trim().to_string();
                        if tx.send(text).is_err() {
                            break;
                        }
                        line.clear();
                    }
                } else {
                    line.push(b);
                }
            }
        });
        let mut cap = Capture {
            child,
            path: path.to_path_buf(),
            progress: rx,
            said: Vec::new(),
            counted: 0,
            probe,
            probe_port,
        };
        if !cap.probe_counted(Duration::from_secs(10)) {
            let said = cap.said.join("\n");
            let _ = cap.child.kill();
            let _ = cap.child.wait();
            panic!("dumpcap did not capture on lo within 10 s (root needed):\n{said}");
        }
        cap
    }

    /// Sends probes every 20 ms until dumpcap's count goes up; false at the deadline.
    fn probe_counted(&mut self, timeout: Duration) -> bool {
        let before = self.counted;
        let deadline = Instant::now() + timeout;
        let mut next_probe = Instant::now();
        while Instant::now() < deadline {
            if Instant::now() >= next_probe {
                let _ = self
                    .probe
                    .send_to(b"capture probe", ("127.0.0.1", self.probe_port));
                next_probe += Duration::from_millis(20);
            }
            match self.progress.recv_timeout(Duration::from_millis(10)) {
                Ok(line) => {
                    if let Some(n) = line
                        .strip_prefix("Packets:")
                        .and_then(|n| n.trim().parse::<u64>().ok())
                    {
                        self.counted = n;
                        if n > before {
                            return true;
                        }
                    } else {
                        self.said.push(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
        false
    }

    /// Stops the capture once everything sent so far is in it, and reads the packets
    /// (probes left out).
    pub fn stop(mut self) -> Vec<Packet> {
        let flushed = self.probe_counted(Duration::from_secs(5));
        let pid = self.child.id().to_string();
        // SIGINT: dumpcap finishes its file and exits.
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        assert!(
            flushed,
            "dumpcap stopped counting packets; it said:\n{}",
            self.said.join("\n")
        );
        let bytes = std::fs::read(&self.path)
            .unwrap_or_else(|e| panic!("read capture {}: {e}", self.path.display()));
        let mut packets =
            read_pcap(&bytes).unwrap_or_else(|e| panic!("capture {}: {e}", self.path.display()));
        packets.retain(|p| p.dst_port != self.probe_port);
        packets
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // Only when stop() was not reached (a test panicked first).
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a classic pcap file (either byte order, µs or ns timestamps) and returns its IPv4/UDP
/// datagrams. Link types: Ethernet (1, what `lo` gives), BSD loopback (0), Linux cooked (113, 276).
pub fn read_pcap(b: &[u8]) -> Result<Vec<Packet>, String> {
    if b.len() < 24 {
        return Err(format!("{} bytes: shorter than a pcap header", b.len()));
    }
    let magic = [b[0], b[1], b[2], b[3]];
    let (le, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        _ => return Err(format!("not a classic pcap file (magic {magic:02x?})")),
    };
    let u32_at = |i: usize| -> u32 {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        }
    };
    let link_header = match u32_at(20) {
        1 => 14,
        0 => 4,
        113 => 16,
        276 => 20,
        other => return Err(format!("unsupported link type {other}")),
    };
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let secs = u32_at(i) as f64;
        let frac = u32_at(i + 4) as f64;
        let incl = u32_at(i + 8) as usize;
        let data_start = i + 16;
        let data_end = data_start + incl;
        if data_end > b.len() {
            break; // a record cut short by the stop: ignore it
        }
        let time = secs + frac / if nanos { 1e9 } else { 1e6 };
        if let Some((src_port, dst_port, payload)) = udp_in(&b[data_start..data_end], link_header) {
            out.push(Packet {
                time,
                src_port,
                dst_port,
                payload: payload.to_vec(),
            });
        }
        i = data_end;
    }
    Ok(out)
}

fn udp_in(frame: &[u8], link_header: usize) -> Option<(u16, u16, &[u8])> {
    let ip = frame.get(link_header..)?;
    if ip.first()? >> 4 != 4 {
        return None;
    }
    let ihl = ((ip[0] & 0x0f) as usize) * 4;
    if ip.get(9)? != &17 {
        return None;
    }
    let total = u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]) as usize;
    let udp = ip.get(ihl..total.min(ip.len()))?;
    let src = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
    let dst = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
    let len = u16::from_be_bytes([*udp.get(4)?, *udp.get(5)?]) as usize;
    let payload = udp.get(8..len.min(udp.len()))?;
    Some((src, dst, payload))
}

/// An RTP packet's fixed header and payload (RFC 3550 §5.1; CSRCs and extension skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtp {
    /// Marker bit.
    pub marker: bool,
    /// Payload type.
    pub pt: u8,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload (padding removed).
    pub payload: Vec<u8>,
}

/// Parses an RTP packet; `None` when it is not RTP version 2.
pub fn parse_rtp(b: &[u8]) -> Option<Rtp> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let cc = (b[0] & 0x0f) as usize;
    let mut start = 12 + 4 * cc;
    if b[0] & 0x10 != 0 {
        let ext = b.get(start + 2..start + 4)?;
        start += 4 + 4 * u16::from_be_bytes([ext[0], ext[1]]) as usize;
    }
    let mut end = b.len();
    if b[0] & 0x20 != 0 {
        end = end.checked_sub(*b.last()? as usize)?;
    }
    Some(Rtp {
        marker: b[1] & 0x80 != 0,
        pt: b[1] & 0x7f,
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        payload: b.get(start..end)?.to_vec(),
    })
}

/// The RTP packets among `packets` sent to `dst_port`, with their capture times.
pub fn rtp_to(packets: &[Packet], dst_port: u16) -> Vec<(f64, Rtp)> {
    packets
        .iter()
        .filter(|p| p.dst_port == dst_port)
        .filter_map(|p| parse_rtp(&p.payload).map(|r| (p.time, r)))
        .collect()
}

/// Timing and numbering of a stream of RTP packets, as a listener hears it.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// Packets.
    pub packets: usize,
    /// Median gap between arrivals, milliseconds.
    pub median_gap_ms: f64,
    /// 95th percentile of the gaps, milliseconds.
    pub p95_gap_ms: f64,
    /// Largest gap, milliseconds.
    pub max_gap_ms: f64,
}

/// Arrival-gap statistics of `packets` (capture times in seconds).
pub fn pacing(packets: &[(f64, Rtp)]) -> Pacing {
    let mut gaps: Vec<f64> = packets
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * 1000.0)
        .collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| -> f64 {
        if gaps.is_empty() {
            return f64::NAN;
        }
        gaps[((gaps.len() - 1) as f64 * q).round() as usize]
    };
    Pacing {
        packets: packets.len(),
        median_gap_ms: at(0.5),
        p95_gap_ms: at(0.95),
        max_gap_ms: gaps.last().copied().unwrap_or(f64::NAN),
    }
}

/// A µ-law clip, indexed so that a received payload can be recognised as a piece of it (at any
/// offset, across the loop point) — how a test tells relayed audio from the server's prompts.
pub struct ClipIndex {
    clip: Vec<u8>,
    by_prefix: std::collections::HashMap<[u8; 16], Vec<usize>>,
}

/// µ-law has two codes for zero (0xFF and 0x7F); a decode/encode round trip keeps only one.
fn canonical_ulaw(b: u8) -> u8 {
    if b == 0x7f {
        0xff
    } else {
        b
    }
}

impl ClipIndex {
    /// Indexes the raw µ-law bytes of a clip.
    pub fn new(raw: &[u8]) -> ClipIndex {
        let clip: Vec<u8> = raw.iter().copied().map(canonical_ulaw).collect();
        let mut by_prefix: std::collections::HashMap<[u8; 16], Vec<usize>> =
            std::collections::HashMap::new();
        for pos in 0..clip.len() {
            let mut key = [0u8; 16];
            for (i, k) in key.iter_mut().enumerate() {
                *k = clip[(pos + i) % clip.len()];
            }
            by_prefix.entry(key).or_default().push(pos);
        }
        ClipIndex { clip, by_prefix }
    }

    /// Whether `payload` is a stretch of the clip that carries sound (silence matches anything,
    /// so it never counts).
    pub fn contains(&self, payload: &[u8]) -> bool {
        if payload.len() < 16 || is_quiet(payload) {
            return false;
        }
        let p: Vec<u8> = payload.iter().copied().map(canonical_ulaw).collect();
        let mut key = [0u8; 16];
        key.copy_from_slice(&p[..16]);
        self.by_prefix.get(&key).is_some_and(|starts| {
            starts.iter().any(|&s| {
                p.iter()
                    .enumerate()
                    .all(|(i, b)| *b == self.clip[(s + i) % self.clip.len()])
            })
        })
    }
}

/// Whether a µ-law payload is (near) silence: every sample under about -54 dBFS.
pub fn is_quiet(payload: &[u8]) -> bool {
    payload.iter().all(|&b| {
        let u = !b;
        let exponent = (u >> 4) & 0x07;
        let mantissa = u & 0x0f;
        let magnitude = ((((mantissa as i32) << 3) + 0x84) << exponent) - 0x84;
        magnitude < 64
    })
}
