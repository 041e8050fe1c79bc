//! A tiny SIP user agent over plain std sockets, for tests that must control every byte.
//!
//! It builds requests and responses as text, parses what comes back with simple string
//! handling, and owns a UDP media socket whose port it offers in its SDP, so a test can count
//! the RTP the server sends, send RFC 4733 DTMF and µ-law audio back, and act as an agent
//! (UAS) the server calls.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A unique token for Call-IDs, branches and tags.
pub fn token(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{:x}{n}", t & 0xffff_ffff)
}

/// A new Via branch (with the RFC 3261 magic cookie).
pub fn branch() -> String {
    token("z9hG4bK")
}

/// A parsed SIP message: a request or a response.
#[derive(Debug, Clone)]
pub struct SipMsg {
    /// The first line (`SIP/2.0 200 OK` or `INVITE sip:... SIP/2.0`).
    pub start: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub raw: String,
    /// Where it came from.
    pub from: Option<SocketAddr>,
}

/// Compact header forms (RFC 3261 7.3.3).
fn long_name(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "i" => "call-id".into(),
        "f" => "from".into(),
        "t" => "to".into(),
        "v" => "via".into(),
        "m" => "contact".into(),
        "l" => "content-length".into(),
        "c" => "content-type".into(),
        _ => n,
    }
}

impl SipMsg {
    /// Parses one message; `None` when it is not SIP at all.
    pub fn parse(raw: &str) -> Option<SipMsg> {
        let (head, body) = match raw.split_once("\r\n\r\n") {
            Some((h, b)) => (h, b),
            None => (raw.trim_end(), ""),
        };
        let mut lines = head.split("\r\n");
        let start = lines.next()?.to_string();
        if !start.starts_with("SIP/2.0 ") && !start.ends_with(" SIP/2.0") {
            return None;
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        for l in lines {
            if l.starts_with(' ') || l.starts_with('\t') {
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(l.trim());
                }
                continue;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        Some(SipMsg {
            start,
            headers,
            body: body.to_string(),
            raw: raw.to_string(),
            from: None,
        })
    }

    pub fn is_response(&self) -> bool {
        self.start.starts_with("SIP/2.0 ")
    }

    /// The status code of a response, 0 for a request.
    pub fn code(&self) -> u16 {
        if !self.is_response() {
            return 0;
        }
        self.start
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The method of a request, or the CSeq method of a response.
    pub fn method(&self) -> String {
        if self.is_response() {
            self.header("CSeq")
                .and_then(|c| c.split_whitespace().nth(1))
                .unwrap_or("")
                .to_string()
        } else {
            self.start.split(' ').next().unwrap_or("").to_string()
        }
    }

    /// The first value of a header (long or compact name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let want = long_name(name);
        self.headers
            .iter()
            .find(|(n, _)| long_name(n) == want)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let want = long_name(name);
        self.headers
            .iter()
            .filter(|(n, _)| long_name(n) == want)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `tag` parameter of the To header.
    pub fn to_tag(&self) -> Option<String> {
        tag_of(self.header("To")?)
    }

    /// The `tag` parameter of the From header.
    pub fn tag_of_from(&self) -> Option<String> {
        tag_of(self.header("From")?)
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// The CSeq number.
    pub fn cseq(&self) -> u32 {
        self.header("CSeq")
            .and_then(|c| c.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The branch of the top Via.
    pub fn branch(&self) -> Option<String> {
        param(self.header("Via")?, "branch")
    }

    /// The URI inside the Contact header.
    pub fn contact_uri(&self) -> Option<String> {
        uri_in(self.header("Contact")?)
    }

    /// The media address of the SDP body (`c=` and the first `m=audio`).
    pub fn sdp_media(&self) -> Option<SocketAddr> {
        sdp_media(&self.body)
    }

    /// The payload types of the SDP's `m=audio` line.
    pub fn sdp_payload_types(&self) -> Vec<u8> {
        self.body
            .lines()
            .find(|l| l.starts_with("m=audio"))
            .map(|l| {
                l.split_whitespace()
                    .skip(3)
                    .filter_map(|p| p.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The payload type the SDP maps to `telephone-event`.
    pub fn sdp_telephone_event(&self) -> Option<u8> {
        self.body.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("a=rtpmap:")?;
            let (pt, enc) = rest.split_once(' ')?;
            if enc.to_ascii_lowercase().starts_with("telephone-event") {
                pt.parse().ok()
            } else {
                None
            }
        })
    }
}

/// The `tag=` parameter of a From/To value.
pub fn tag_of(v: &str) -> Option<String> {
    // Parameters after the closing '>' (or the whole value without brackets).
    let params = match v.rfind('>') {
        Some(i) => &v[i + 1..],
        None => v,
    };
    param(params, "tag")
}

/// A `;name=value` parameter of a header value.
pub fn param(v: &str, name: &str) -> Option<String> {
    v.split(';').skip(1).find_map(|p| {
        let (n, val) = p.split_once('=').unwrap_or((p, ""));
        (n.trim().eq_ignore_ascii_case(name)).then(|| val.trim().to_string())
    })
}

/// The URI between `<` and `>`, or the value up to its first `;`.
pub fn uri_in(v: &str) -> Option<String> {
    if let (Some(a), Some(b)) = (v.find('<'), v.find('>')) {
        return Some(v[a + 1..b].to_string());
    }
    Some(v.split(';').next()?.trim().to_string())
}

/// The host:port of a `sip:` URI (port 5060 when absent).
pub fn uri_addr(uri: &str) -> Option<SocketAddr> {
    let rest = uri.strip_prefix("sip:")?;
    let rest = rest.split(';').next()?;
    let hostport = rest.rsplit('@').next()?;
    let hp = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5060")
    };
    hp.parse().ok()
}

/// The media address of an SDP body.
pub fn sdp_media(sdp: &str) -> Option<SocketAddr> {
    let mut ip = None;
    let mut port = None;
    for l in sdp.lines() {
        let l = l.trim();
        if let Some(c) = l.strip_prefix("c=IN IP4 ") {
            ip = Some(c.split('/').next()?.trim().to_string());
        }
        if let Some(m) = l.strip_prefix("m=audio ") {
            port = m.split_whitespace().next()?.parse::<u16>().ok();
        }
    }
    format!("{}:{}", ip?, port?).parse().ok()
}

/// An SDP offer/answer for `media_port` with the given payload types (0, 8, 9 and 101 are
/// described by rtpmap lines).
pub fn sdp(media_port: u16, pts: &[u8]) -> String {
    let list: Vec<String> = pts.iter().map(|p| p.to_string()).collect();
    let mut s = format!(
        "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {media_port} RTP/AVP {}\r\n",
        list.join(" ")
    );
    for pt in pts {
        match pt {
            0 => s.push_str("a=rtpmap:0 PCMU/8000\r\n"),
            8 => s.push_str("a=rtpmap:8 PCMA/8000\r\n"),
            9 => s.push_str("a=rtpmap:9 G722/8000\r\n"),
            101 => s.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"),
            _ => {}
        }
    }
    s.push_str("a=ptime:20\r\na=sendrecv\r\n");
    s
}

/// Appends Content-Length (and Content-Type for a body) and the body.
fn finish(mut head: String, body: &str) -> String {
    if !body.is_empty() {
        head.push_str("Content-Type: application/sdp\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    head
}

/// Builds a response to `req`: its Via, From, Call-ID and CSeq, its To with `to_tag` added
/// when it has none, plus `extra` header lines and an SDP `body`.
pub fn response(
    req: &SipMsg,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &str,
    body: &str,
) -> String {
    let mut h = format!("SIP/2.0 {code} {reason}\r\n");
    for v in req.all("Via") {
        h.push_str(&format!("Via: {v}\r\n"));
    }
    h.push_str(&format!("From: {}\r\n", req.header("From").unwrap_or("")));
    let to = req.header("To").unwrap_or("").to_string();
    let to = match (tag_of(&to), to_tag) {
        (None, Some(t)) => format!("{to};tag={t}"),
        _ => to,
    };
    h.push_str(&format!("To: {to}\r\n"));
    h.push_str(&format!("Call-ID: {}\r\n", req.call_id().unwrap_or("")));
    h.push_str(&format!("CSeq: {}\r\n", req.header("CSeq").unwrap_or("")));
    h.push_str(extra);
    finish(h, body)
}

/// A UDP signalling socket with a queue of messages received but not yet wanted.
pub struct SipSocket {
    pub sock: UdpSocket,
    pub local: SocketAddr,
    pending: VecDeque<SipMsg>,
    /// Everything received, in order, for failure messages.
    pub trace: Vec<String>,
}

impl SipSocket {
    pub fn bind() -> SipSocket {
        Self::bind_on([127, 0, 0, 1])
    }

    /// A socket on the loopback address `ip` (127.0.0.x), to play another source.
    pub fn bind_on(ip: [u8; 4]) -> SipSocket {
        let sock = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("bind a UDP SIP socket");
        let local = sock.local_addr().unwrap();
        SipSocket {
            sock,
            local,
            pending: VecDeque::new(),
            trace: Vec::new(),
        }
    }

    pub fn send_to(&mut self, text: &str, to: SocketAddr) {
        self.send_bytes(text.as_bytes(), to);
        self.trace.push(format!(">>> to {to}\n{text}"));
    }

    pub fn send_bytes(&self, bytes: &[u8], to: SocketAddr) {
        self.sock.send_to(bytes, to).expect("UDP send");
    }

    /// The next datagram (parsed or not) within `timeout`.
    fn recv_raw(&mut self, timeout: Duration) -> Option<(String, SocketAddr)> {
        let mut buf = vec![0u8; 65536];
        self.sock
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .unwrap();
        match self.sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                self.trace.push(format!("<<< from {from}\n{text}"));
                Some((text, from))
            }
            Err(_) => None,
        }
    }

    /// The first message (queued or arriving before `timeout`) for which `want` is true;
    /// others are queued for later calls.
    pub fn recv_match(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&SipMsg) -> bool,
    ) -> Option<SipMsg> {
        if let Some(i) = self.pending.iter().position(&mut want) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let (text, from) = self.recv_raw(left)?;
            let Some(mut m) = SipMsg::parse(&text) else {
                continue;
            };
            m.from = Some(from);
            if want(&m) {
                return Some(m);
            }
            self.pending.push_back(m);
        }
    }

    /// Any message within `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Option<SipMsg> {
        self.recv_match(timeout, |_| true)
    }

    /// The first final (>= 200) response for `call_id`/`method`, skipping provisional ones
    /// (which are kept in `provisional`).
    pub fn final_response(
        &mut self,
        call_id: &str,
        method: &str,
        timeout: Duration,
        provisional: &mut Vec<SipMsg>,
    ) -> Option<SipMsg> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self.recv_match(left, |m| {
                m.is_response() && m.call_id() == Some(call_id) && m.method() == method
            })?;
            if m.code() >= 200 {
                return Some(m);
            }
            provisional.push(m);
        }
    }

    /// The SIP trace so far, for assertion messages.
    pub fn trace(&self) -> String {
        self.trace.join("\n")
    }
}

/// Sends `bytes` over a fresh TCP connection and returns what came back before `timeout`
/// (or before the server closed the connection).
pub fn tcp_exchange(server: SocketAddr, bytes: &[u8], timeout: Duration) -> String {
    let mut s = TcpStream::connect_timeout(&server, Duration::from_secs(2)).expect("TCP connect");
    let _ = s.write_all(bytes);
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                // One complete message is enough.
                let text = String::from_utf8_lossy(&out);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = SipMsg::parse(&format!("{head}\r\n\r\n"))
                        .and_then(|m| m.header("Content-Length").and_then(|l| l.parse().ok()))
                        .unwrap_or(0usize);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

/// An OPTIONS request from `local` (transport `UDP` or `TCP`) to `server`.
pub fn options(server: SocketAddr, local: SocketAddr, transport: &str) -> String {
    let h = format!(
        "OPTIONS sip:{server} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch={};rport\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag={}\r\nTo: <sip:{server}>\r\nCall-ID: {}\r\nCSeq: 1 OPTIONS\r\nContact: <sip:probe@{local};transport={}>\r\nAccept: application/sdp\r\n",
        branch(),
        token("t"),
        token("opt-"),
        transport.to_ascii_lowercase()
    );
    finish(h, "")
}

/// A received RTP packet.
#[derive(Debug, Clone)]
pub struct Rtp {
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
    pub from: SocketAddr,
}

impl Rtp {
    pub fn parse(b: &[u8], from: SocketAddr) -> Option<Rtp> {
        if b.len() < 12 || b[0] >> 6 != 2 {
            return None;
        }
        let cc = (b[0] & 0x0f) as usize;
        let start = 12 + 4 * cc;
        if b.len() < start {
            return None;
        }
        Some(Rtp {
            pt: b[1] & 0x7f,
            marker: b[1] & 0x80 != 0,
            seq: u16::from_be_bytes([b[2], b[3]]),
            ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            payload: b[start..].to_vec(),
            from,
        })
    }
}

/// An RTP endpoint: a bound UDP socket, a sender state and the peer to send to.
pub struct Media {
    pub sock: UdpSocket,
    pub port: u16,
    pub peer: Option<SocketAddr>,
    seq: u16,
    ts: u32,
    ssrc: u32,
}

impl Media {
    pub fn bind() -> Media {
        Self::bind_on([127, 0, 0, 1])
    }

    /// A media socket on the loopback address `ip` (127.0.0.x), to play another source.
    pub fn bind_on(ip: [u8; 4]) -> Media {
        let sock = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("bind a UDP media socket");
        let port = sock.local_addr().unwrap().port();
        Media {
            sock,
            port,
            peer: None,
            seq: 1000,
            ts: 8000,
            ssrc: 0x1234_5678,
        }
    }

    /// Receives RTP for `dur` and returns every packet that arrived.
    pub fn collect(&self, dur: Duration) -> Vec<Rtp> {
        let deadline = Instant::now() + dur;
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return out;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                if let Some(p) = Rtp::parse(&buf[..n], from) {
                    out.push(p);
                }
            }
        }
    }

    /// Drops whatever is queued on the socket.
    pub fn drain(&self) {
        self.sock.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 2048];
        while self.sock.recv_from(&mut buf).is_ok() {}
        self.sock.set_nonblocking(false).unwrap();
    }

    /// Waits up to `timeout` for the first RTP packet.
    pub fn first_packet(&self, timeout: Duration) -> Option<Rtp> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                if let Some(p) = Rtp::parse(&buf[..n], from) {
                    return Some(p);
                }
            }
        }
    }

    /// Waits until a beep (a pure tone, 300-3000 Hz) has been heard for at least `min_packets`
    /// packets in a row and has stopped (the first packet after it that is not the tone);
    /// false when `timeout` passes first. Decodes PCMU (PT 0).
    pub fn wait_beep_end(&self, min_packets: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut run = 0;
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            let Some(p) = Rtp::parse(&buf[..n], from) else {
                continue;
            };
            if p.pt != 0 {
                continue;
            }
            let pcm: Vec<i16> = p.payload.iter().map(|b| ulaw_to_linear(*b)).collect();
            let purity = (30..=300)
                .map(|f| tone_fraction(&pcm, f as f64 * 10.0))
                .fold(0.0, f64::max);
            if purity > 0.8 {
                run += 1;
            } else if run >= min_packets {
                return true;
            } else {
                run = 0;
            }
        }
    }

    fn send_packet(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let peer = self.peer.expect("media peer known");
        let mut p = Vec::with_capacity(12 + payload.len());
        p.push(0x80);
        p.push(pt | if marker { 0x80 } else { 0 });
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend_from_slice(payload);
        self.sock.send_to(&p, peer).expect("RTP send");
        self.seq = self.seq.wrapping_add(1);
    }

    /// Sends µ-law audio (8 kHz samples) in paced 20 ms packets of PT 0.
    pub fn send_audio(&mut self, samples: &[i16]) {
        let start = Instant::now();
        for (i, chunk) in samples.chunks(160).enumerate() {
            let payload: Vec<u8> = chunk.iter().map(|s| linear_to_ulaw(*s)).collect();
            let ts = self.ts;
            self.send_packet(0, i == 0, ts, &payload);
            self.ts = self.ts.wrapping_add(160);
            let due = start + Duration::from_millis(20 * (i as u64 + 1));
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
        }
    }

    /// Sends `secs` of silence (keeps NAT-less peers and jitter buffers happy between events).
    pub fn send_silence(&mut self, secs: f64) {
        let n = (secs * 8000.0) as usize;
        self.send_audio(&vec![0i16; n]);
    }

    /// Sends one RFC 4733 telephone-event for `digit` with payload type `pt`: three packets
    /// with the same timestamp (the first with the marker bit, growing durations), the end
    /// packet (E bit) sent three times, 20 ms apart, then 100 ms of silence.
    pub fn send_dtmf(&mut self, digit: char, pt: u8) {
        let event: u8 = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => panic!("no DTMF event for {digit:?}"),
        };
        let ts = self.ts;
        let volume = 10u8;
        let send = |this: &mut Media, marker: bool, end: bool, dur: u16| {
            let payload = [
                event,
                (if end { 0x80 } else { 0 }) | volume,
                (dur >> 8) as u8,
                dur as u8,
            ];
            this.send_packet(pt, marker, ts, &payload);
            std::thread::sleep(Duration::from_millis(20));
        };
        send(self, true, false, 160);
        send(self, false, false, 320);
        send(self, false, false, 480);
        for _ in 0..3 {
            send(self, false, true, 640);
        }
        self.ts = self.ts.wrapping_add(640 + 160);
        self.send_silence(0.1);
    }
}

/// G.711 µ-law encoding of one sample.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = sample as i32;
    let sign = if s < 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s;
    }
    s = s.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// G.711 µ-law decoding of one byte.
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0f) as i32;
    let mut s = ((mantissa << 3) + 0x84) << exponent;
    s -= 0x84;
    if sign != 0 {
        -s as i16
    } else {
        s as i16
    }
}

/// The share of the energy of `x` (8 kHz) that lies at `freq` Hz (Goertzel): about 1 for a
/// pure tone, near 0 for silence or speech.
pub fn tone_fraction(x: &[i16], freq: f64) -> f64 {
    let n = x.len() as f64;
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut re, mut im, mut energy) = (0.0, 0.0, 0.0);
    for (i, s) in x.iter().enumerate() {
        let v = *s as f64;
        re += v * (w * i as f64).cos();
        im -= v * (w * i as f64).sin();
        energy += v * v;
    }
    if energy < 1e3 * n {
        return 0.0; // quieter than about -30 dBFS: not a beep
    }
    (re * re + im * im) / (n / 2.0 * energy)
}

/// A sine tone of `secs` at `freq` Hz, 8 kHz, amplitude `amp`.
pub fn tone(freq: f64, secs: f64, amp: f64) -> Vec<i16> {
    let n = (secs * 8000.0) as usize;
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

/// A caller's dialog with the server, driven by hand: INVITE, provisional and final
/// responses, ACK, BYE, CANCEL, plus its own media socket.
pub struct RawCall {
    pub sip: SipSocket,
    pub media: Media,
    pub server: SocketAddr,
    /// The user part of the Request-URI (the dialplan).
    pub user: String,
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    pub cseq: u32,
    pub invite_branch: String,
    /// Where in-dialog requests go (the 200's Contact), else the server.
    pub remote_target: Option<String>,
    /// The payload types offered.
    pub offer: Vec<u8>,
    /// Provisional responses to the INVITE, in order.
    pub provisional: Vec<SipMsg>,
    /// The INVITE's final response.
    pub answer: Option<SipMsg>,
    /// The user in our From header.
    pub from_user: String,
    /// Header lines added to the INVITE (an `Authorization`).
    pub invite_headers: String,
}

impl RawCall {
    /// A new caller for `sip:<user>@server` offering PCMU, PCMA and telephone-event 101.
    pub fn new(server: SocketAddr, user: &str) -> RawCall {
        Self::with_offer(server, user, &[0, 8, 101])
    }

    pub fn with_offer(server: SocketAddr, user: &str, offer: &[u8]) -> RawCall {
        Self::from_address(server, user, offer, [127, 0, 0, 1])
    }

    /// A caller whose SIP comes from the loopback address `ip` (127.0.0.x).
    pub fn from_address(server: SocketAddr, user: &str, offer: &[u8], ip: [u8; 4]) -> RawCall {
        RawCall {
            sip: SipSocket::bind_on(ip),
            media: Media::bind(),
            server,
            user: user.to_string(),
            call_id: token("raw-") + "@127.0.0.1",
            from_tag: token("ft"),
            to_tag: None,
            cseq: 1,
            invite_branch: branch(),
            remote_target: None,
            offer: offer.to_vec(),
            provisional: Vec::new(),
            answer: None,
            from_user: "tester".into(),
            invite_headers: String::new(),
        }
    }

    /// The INVITE text (the same bytes every time, so it can be retransmitted).
    pub fn invite_text(&self) -> String {
        let local = self.sip.local;
        let h = format!(
            "INVITE sip:{user}@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={br};rport\r\nMax-Forwards: 70\r\nFrom: \"Raw Tester\" <sip:{fu}@127.0.0.1>;tag={ft}\r\nTo: <sip:{user}@{server}>\r\nCall-ID: {cid}\r\nCSeq: {cseq} INVITE\r\nContact: <sip:{fu}@{local}>\r\nUser-Agent: humanline-tests\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n{extra}",
            fu = self.from_user,
            extra = self.invite_headers,
            user = self.user,
            server = self.server,
            br = self.invite_branch,
            ft = self.from_tag,
            cid = self.call_id,
            cseq = self.cseq,
        );
        finish(h, &sdp(self.media.port, &self.offer))
    }

    /// Sends the INVITE.
    pub fn send_invite(&mut self) {
        let text = self.invite_text();
        let server = self.server;
        self.sip.send_to(&text, server);
    }

    /// Waits for the INVITE's final response, remembering provisional ones, the To tag, the
    /// remote target and the server's media address.
    pub fn wait_final(&mut self, timeout: Duration) -> Option<SipMsg> {
        let cid = self.call_id.clone();
        let mut prov = Vec::new();
        let r = self.sip.final_response(&cid, "INVITE", timeout, &mut prov);
        self.provisional.extend(prov);
        let r = r?;
        self.to_tag = r.to_tag();
        if r.code() < 300 {
            self.remote_target = r.contact_uri();
            self.media.peer = r.sdp_media();
        }
        self.answer = Some(r.clone());
        Some(r)
    }

    /// Waits for a provisional response with `code`.
    pub fn wait_provisional(&mut self, code: u16, timeout: Duration) -> Option<SipMsg> {
        if let Some(p) = self.provisional.iter().find(|p| p.code() == code) {
            return Some(p.clone());
        }
        let cid = self.call_id.clone();
        let m = self.sip.recv_match(timeout, |m| {
            m.is_response() && m.call_id() == Some(cid.as_str()) && m.code() == code
        })?;
        self.provisional.push(m.clone());
        Some(m)
    }

    /// Where in-dialog requests are sent.
    fn target_addr(&self) -> SocketAddr {
        self.remote_target
            .as_deref()
            .and_then(uri_addr)
            .unwrap_or(self.server)
    }

    fn target_uri(&self) -> String {
        self.remote_target
            .clone()
            .unwrap_or_else(|| format!("sip:{}@{}", self.user, self.server))
    }

    /// An in-dialog request (ACK, BYE) with `cseq`.
    fn in_dialog(&self, method: &str, cseq: u32, br: &str) -> String {
        self.in_dialog_with_body(method, cseq, br, "")
    }

    /// The text of an in-dialog request `method` with CSeq `cseq` (for tests that forge one
    /// by editing it).
    pub fn in_dialog_text(&self, method: &str, cseq: u32) -> String {
        self.in_dialog(method, cseq, &branch())
    }

    /// Where in-dialog requests go.
    pub fn dialog_target(&self) -> SocketAddr {
        self.target_addr()
    }

    /// An in-dialog request with an SDP `body` (re-INVITE).
    fn in_dialog_with_body(&self, method: &str, cseq: u32, br: &str, body: &str) -> String {
        let local = self.sip.local;
        let to_tag = self
            .to_tag
            .as_ref()
            .map(|t| format!(";tag={t}"))
            .unwrap_or_default();
        let h = format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={br};rport\r\nMax-Forwards: 70\r\nFrom: \"Raw Tester\" <sip:{fu}@127.0.0.1>;tag={ft}\r\nTo: <sip:{user}@{server}>{to_tag}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{fu}@{local}>\r\n",
            fu = self.from_user,
            uri = self.target_uri(),
            user = self.user,
            server = self.server,
            ft = self.from_tag,
            cid = self.call_id,
        );
        finish(h, body)
    }

    /// Sends a re-INVITE whose offer says `direction` (`sendonly` puts the server on hold,
    /// `sendrecv` resumes), ACKs a 2xx, and returns the final response.
    pub fn reinvite(&mut self, direction: &str) -> Option<SipMsg> {
        self.cseq += 1;
        let body =
            sdp(self.media.port, &self.offer).replace("a=sendrecv", &format!("a={direction}"));
        let text = self.in_dialog_with_body("INVITE", self.cseq, &branch(), &body);
        let to = self.target_addr();
        self.sip.send_to(&text, to);
        let cid = self.call_id.clone();
        let mut prov = Vec::new();
        let r = self
            .sip
            .final_response(&cid, "INVITE", Duration::from_secs(5), &mut prov)?;
        if r.code() < 300 {
            let ack = self.in_dialog("ACK", self.cseq, &branch());
            self.sip.send_to(&ack, to);
        }
        Some(r)
    }

    /// A request in the INVITE's own transaction (CANCEL, or the ACK of a failure): same
    /// branch, Request-URI and CSeq number; the To tag only where the response gave one.
    fn invite_transaction(&self, method: &str, with_to_tag: bool) -> String {
        let local = self.sip.local;
        let to_tag = match (&self.to_tag, with_to_tag) {
            (Some(t), true) => format!(";tag={t}"),
            _ => String::new(),
        };
        finish(
            format!(
                "{method} sip:{user}@{server} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={br};rport\r\nMax-Forwards: 70\r\nFrom: \"Raw Tester\" <sip:{fu}@127.0.0.1>;tag={ft}\r\nTo: <sip:{user}@{server}>{to_tag}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\n",
                fu = self.from_user,
                user = self.user,
                server = self.server,
                br = self.invite_branch,
                ft = self.from_tag,
                cid = self.call_id,
                cseq = self.cseq,
            ),
            "",
        )
    }

    /// ACKs a 2xx (new transaction) or a non-2xx final response (same branch, same
    /// Request-URI, hop-by-hop).
    pub fn ack(&mut self) {
        let code = self.answer.as_ref().map(|a| a.code()).unwrap_or(200);
        let text = if code < 300 {
            self.in_dialog("ACK", self.cseq, &branch())
        } else {
            self.invite_transaction("ACK", true)
        };
        let to = if code < 300 {
            self.target_addr()
        } else {
            self.server
        };
        self.sip.send_to(&text, to);
    }

    /// INVITE, wait for 200 (panics with the SIP trace otherwise), ACK.
    pub fn establish(server: SocketAddr, user: &str) -> RawCall {
        let mut c = RawCall::new(server, user);
        c.connect();
        c
    }

    /// INVITE → final 200 → ACK on this call; panics with the trace on anything else.
    pub fn connect(&mut self) {
        self.send_invite();
        let r = self.wait_final(Duration::from_secs(10));
        match r {
            Some(r) if r.code() == 200 => {}
            other => panic!(
                "expected 200 OK to the INVITE, got {:?}\n--- SIP trace ---\n{}",
                other.map(|o| o.start),
                self.sip.trace()
            ),
        }
        assert!(
            self.media.peer.is_some(),
            "the 200 OK carries an SDP answer with c= and m=audio:\n{}",
            self.answer.as_ref().unwrap().raw
        );
        self.ack();
    }

    /// INVITE as `user` and, when challenged (401), again with `user`'s SHA-256 digest for
    /// `password`; ACKs the final response and returns it.
    pub fn connect_as(&mut self, user: &str, password: &str) -> SipMsg {
        self.from_user = user.to_string();
        self.send_invite();
        let first = self
            .wait_final(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no answer to the INVITE:\n{}", self.sip.trace()));
        self.ack();
        if first.code() != 401 {
            return first;
        }
        let challenge = first
            .all("WWW-Authenticate")
            .into_iter()
            .find(|c| c.contains("SHA-256"))
            .expect("a SHA-256 challenge")
            .to_string();
        let uri = format!("sip:{}@{}", self.user, self.server);
        self.invite_headers = digest_sha256(user, password, &challenge, "INVITE", &uri);
        self.cseq += 1;
        self.invite_branch = branch();
        self.to_tag = None;
        self.send_invite();
        let r = self
            .wait_final(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no answer to the second INVITE:\n{}", self.sip.trace()));
        self.ack();
        r
    }

    /// The payload type the server's answer uses for telephone-event (our 101 if absent).
    pub fn dtmf_pt(&self) -> u8 {
        self.answer
            .as_ref()
            .and_then(|a| a.sdp_telephone_event())
            .unwrap_or(101)
    }

    /// Sends a DTMF digit by RFC 4733 to the server's media address.
    pub fn dtmf(&mut self, digit: char) {
        let pt = self.dtmf_pt();
        self.media.send_dtmf(digit, pt);
    }

    /// Sends BYE and returns its final response (None on timeout).
    pub fn bye(&mut self) -> Option<SipMsg> {
        self.cseq += 1;
        let text = self.in_dialog("BYE", self.cseq, &branch());
        let to = self.target_addr();
        self.sip.send_to(&text, to);
        let cid = self.call_id.clone();
        let mut prov = Vec::new();
        self.sip
            .final_response(&cid, "BYE", Duration::from_secs(5), &mut prov)
    }

    /// Sends CANCEL for the pending INVITE and returns the CANCEL's final response.
    pub fn cancel(&mut self) -> Option<SipMsg> {
        let text = self.invite_transaction("CANCEL", false);
        let server = self.server;
        self.sip.send_to(&text, server);
        let cid = self.call_id.clone();
        let mut prov = Vec::new();
        self.sip
            .final_response(&cid, "CANCEL", Duration::from_secs(5), &mut prov)
    }

    /// Waits for a request of `method` from the server in this dialog and answers it 200.
    pub fn expect_request(&mut self, method: &str, timeout: Duration) -> Option<SipMsg> {
        let cid = self.call_id.clone();
        let m = self.sip.recv_match(timeout, |m| {
            !m.is_response() && m.method() == method && m.call_id() == Some(cid.as_str())
        })?;
        let ok = response(&m, 200, "OK", None, "", "");
        let to = m.from.unwrap_or(self.server);
        self.sip.send_to(&ok, to);
        Some(m)
    }
}

/// How a fake agent answers the server's INVITE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AgentAnswer {
    /// 180 and never a final response.
    RingForever,
    /// 180 then 200 with SDP.
    Answer,
    /// A final error (e.g. 486 Busy Here).
    Reject(u16),
}

/// The `Authorization` header answering a SHA-256 digest `challenge` (qop=auth) for `user`
/// with `password`, for `method` on `uri`.
pub fn digest_sha256(
    user: &str,
    password: &str,
    challenge: &str,
    method: &str,
    uri: &str,
) -> String {
    use sha2::{Digest, Sha256};
    let hex = |s: String| -> String {
        Sha256::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let field = |name: &str| {
        challenge
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{name} in the challenge {challenge}"))
            .to_string()
    };
    let (nonce, realm) = (field("nonce"), field("realm"));
    let ha1 = hex(format!("{user}:{realm}:{password}"));
    let ha2 = hex(format!("{method}:{uri}"));
    let resp = hex(format!("{ha1}:{nonce}:00000001:4a3b2c:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{resp}\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"4a3b2c\"\r\n"
    )
}

/// An agent phone the server calls: a UDP socket at `sip:agent@127.0.0.1:<port>`.
pub struct FakeAgent {
    pub sip: SipSocket,
    pub media: Media,
    pub to_tag: String,
    /// The server's INVITE, once received.
    pub invite: Option<SipMsg>,
    cseq: u32,
}

impl FakeAgent {
    pub fn bind() -> FakeAgent {
        FakeAgent {
            sip: SipSocket::bind(),
            media: Media::bind(),
            to_tag: token("agent"),
            invite: None,
            cseq: 1,
        }
    }

    /// The agent's SIP URI, for the queue's `agents`.
    pub fn uri(&self) -> String {
        format!("sip:agent@{}", self.sip.local)
    }

    /// Waits for the server's INVITE and answers it as `how`.
    pub fn take_invite(&mut self, how: AgentAnswer, timeout: Duration) -> Option<SipMsg> {
        let inv = self
            .sip
            .recv_match(timeout, |m| !m.is_response() && m.method() == "INVITE")?;
        let from = inv.from.expect("source address");
        self.invite = Some(inv.clone());
        self.media.peer = inv.sdp_media();
        let contact = format!("Contact: <sip:agent@{}>\r\n", self.sip.local);
        let tag = self.to_tag.clone();
        self.sip
            .send_to(&response(&inv, 100, "Trying", None, "", ""), from);
        match how {
            AgentAnswer::RingForever => {
                let r = response(&inv, 180, "Ringing", Some(&tag), &contact, "");
                self.sip.send_to(&r, from);
            }
            AgentAnswer::Answer => {
                let r = response(&inv, 180, "Ringing", Some(&tag), &contact, "");
                self.sip.send_to(&r, from);
                let body = sdp(self.media.port, &[0, 101]);
                let r = response(&inv, 200, "OK", Some(&tag), &contact, &body);
                self.sip.send_to(&r, from);
            }
            AgentAnswer::Reject(code) => {
                let reason = if code == 486 { "Busy Here" } else { "Rejected" };
                let r = response(&inv, code, reason, Some(&tag), "", "");
                self.sip.send_to(&r, from);
            }
        }
        Some(inv)
    }

    /// Registers this socket as `user`'s phone at `registrar` (answering the SHA-256 digest
    /// challenge with `password`); the final response.
    pub fn register(&mut self, registrar: SocketAddr, user: &str, password: &str) -> SipMsg {
        let call_id = token("reg");
        let uri = format!("sip:{registrar}");
        let mut auth = String::new();
        for cseq in 1..=2 {
            let l = self.sip.local;
            let text = format!(
                "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch={b};rport\r\n\
                 From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: {call_id}\r\n\
                 CSeq: {cseq} REGISTER\r\nMax-Forwards: 70\r\nContact: <sip:{user}@{l}>\r\n{auth}Content-Length: 0\r\n\r\n",
                b = branch(),
                tag = token("t"),
            );
            self.sip.send_to(&text, registrar);
            let r = self
                .sip
                .final_response(
                    &call_id,
                    "REGISTER",
                    Duration::from_secs(5),
                    &mut Vec::new(),
                )
                .unwrap_or_else(|| panic!("no answer to REGISTER:\n{}", self.sip.trace()));
            if r.code() != 401 {
                return r;
            }
            let challenge = r
                .all("WWW-Authenticate")
                .into_iter()
                .find(|c| c.contains("SHA-256"))
                .expect("a SHA-256 challenge")
                .to_string();
            auth = digest_sha256(user, password, &challenge, "REGISTER", &uri);
        }
        panic!(
            "REGISTER still challenged after answering:\n{}",
            self.sip.trace()
        )
    }

    /// Waits for a request of `method` in the server's dialog.
    pub fn wait_request(&mut self, method: &str, timeout: Duration) -> Option<SipMsg> {
        let cid = self
            .invite
            .as_ref()
            .and_then(|i| i.call_id().map(str::to_string));
        self.sip.recv_match(timeout, |m| {
            !m.is_response()
                && m.method() == method
                && (cid.is_none() || m.call_id() == cid.as_deref())
        })
    }

    /// Answers `req` with `code` to where it came from.
    pub fn reply(&mut self, req: &SipMsg, code: u16, reason: &str) {
        let tag = self.to_tag.clone();
        let r = response(req, code, reason, Some(&tag), "", "");
        let to = req.from.expect("source address");
        self.sip.send_to(&r, to);
    }

    /// Sends BYE in the server's dialog (the agent hangs up) and returns its final response.
    pub fn bye(&mut self) -> Option<SipMsg> {
        self.in_dialog("BYE", "")
    }

    /// Sends REFER naming `target` in the server's dialog (the agent passes the caller on)
    /// and returns its final response.
    pub fn refer(&mut self, target: &str) -> Option<SipMsg> {
        self.in_dialog("REFER", &format!("Refer-To: <{target}>\r\n"))
    }

    /// Sends `method` (with `extra` header lines) in the server's dialog; its final response.
    fn in_dialog(&mut self, method: &str, extra: &str) -> Option<SipMsg> {
        let inv = self.invite.clone().expect("an INVITE was answered");
        self.cseq += 1;
        let local = self.sip.local;
        // In the agent's direction From and To swap; the target is the server's Contact.
        let target = inv
            .contact_uri()
            .unwrap_or_else(|| format!("sip:{}", inv.from.unwrap()));
        let to_addr = uri_addr(&target).or(inv.from).unwrap();
        let from_hdr = format!("{};tag={}", inv.header("To").unwrap_or(""), self.to_tag);
        let text = finish(
            format!(
                "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={br};rport\r\nMax-Forwards: 70\r\nFrom: {from_hdr}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:agent@{local}>\r\n{extra}",
                br = branch(),
                to = inv.header("From").unwrap_or(""),
                cid = inv.call_id().unwrap_or(""),
                cseq = self.cseq,
            ),
            "",
        );
        self.sip.send_to(&text, to_addr);
        let cid = inv.call_id().unwrap_or("").to_string();
        let mut prov = Vec::new();
        self.sip
            .final_response(&cid, method, Duration::from_secs(5), &mut prov)
    }
}
