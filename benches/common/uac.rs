//! A minimal SIP user agent over UDP, written apart from the server's own SIP code so the
//! benchmark measures the server and not the library against itself: it places one call
//! (INVITE with an SDP offer, ACK, BYE), answers what the server sends in the dialog, and
//! parses just enough of SIP and SDP to do that.

use super::netstamp;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

/// SIP timer T1: the first retransmission interval over UDP.
const T1: Duration = Duration::from_millis(500);
/// Largest datagram we read.
const MAX_DATAGRAM: usize = 65_535;

/// A random lowercase hex token (tags, branches, Call-IDs).
pub fn token() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// One parsed SIP message: start line, headers in order, body.
#[derive(Debug, Clone)]
pub struct SipMsg {
    /// `SIP/2.0 200 OK` or `INVITE sip:… SIP/2.0`.
    pub start: String,
    /// Header name and value, as received.
    pub headers: Vec<(String, String)>,
    /// Everything after the blank line.
    pub body: String,
}

/// Compact header forms (RFC 3261 §7.3.3) and their long names.
const COMPACT: [(&str, &str); 7] = [
    ("i", "call-id"),
    ("f", "from"),
    ("t", "to"),
    ("v", "via"),
    ("m", "contact"),
    ("l", "content-length"),
    ("c", "content-type"),
];

impl SipMsg {
    /// Parses a datagram; `None` when it is not SIP text.
    pub fn parse(bytes: &[u8]) -> Option<SipMsg> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
        let mut lines = head.split("\r\n");
        let start = lines.next()?.trim().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(SipMsg {
            start,
            headers,
            body: body.to_string(),
        })
    }

    /// The first value of header `name` (case-insensitive, compact forms understood).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| same_header(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order (Via may repeat).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| same_header(n, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The status code of a response, `None` for a request.
    pub fn status(&self) -> Option<u16> {
        let rest = self.start.strip_prefix("SIP/2.0 ")?;
        rest.get(..3)?.parse().ok()
    }

    /// The method of a request, `None` for a response.
    pub fn method(&self) -> Option<&str> {
        if self.start.starts_with("SIP/") {
            return None;
        }
        self.start.split(' ').next()
    }

    /// The method named in CSeq.
    pub fn cseq_method(&self) -> Option<&str> {
        self.header("CSeq")?.split_whitespace().nth(1)
    }

    /// The response to this request: Via, From, To (with `to_tag` added when it has none),
    /// Call-ID and CSeq copied, no body.
    pub fn response(&self, status: u16, reason: &str, to_tag: &str) -> String {
        let mut r = format!("SIP/2.0 {status} {reason}\r\n");
        for v in self.all("Via") {
            r += &format!("Via: {v}\r\n");
        }
        let to = self.header("To").unwrap_or_default();
        let to = if to.contains(";tag=") {
            to.to_string()
        } else {
            format!("{to};tag={to_tag}")
        };
        r += &format!(
            "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
            self.header("From").unwrap_or_default(),
            self.header("Call-ID").unwrap_or_default(),
            self.header("CSeq").unwrap_or_default(),
        );
        r
    }
}

fn same_header(have: &str, want: &str) -> bool {
    let long = |n: &str| {
        let n = n.to_ascii_lowercase();
        COMPACT
            .iter()
            .find(|(c, _)| *c == n)
            .map_or(n.clone(), |(_, l)| l.to_string())
    };
    long(have) == long(want)
}

/// The audio address of an SDP body: `c=` address and `m=audio` port.
pub fn sdp_audio_addr(body: &str) -> Option<SocketAddr> {
    let ip = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?
        .trim();
    let port = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))?
        .split_whitespace()
        .next()?;
    format!("{ip}:{port}").parse().ok()
}

/// The answered call, as the 200 OK told it.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    /// When the kernel received the 200 OK.
    pub ok_at: SystemTime,
    /// Where the server wants our RTP (its SDP).
    pub server_rtp: SocketAddr,
}

/// One outbound call from its own SIP and RTP sockets.
#[derive(Debug)]
pub struct UacCall {
    sip: UdpSocket,
    /// Our media socket, the port offered in SDP; arrival stamps on.
    pub rtp: UdpSocket,
    server: SocketAddr,
    uri: String,
    call_id: String,
    from: String,
    to: String,
    remote_target: String,
    cseq: u32,
}

impl UacCall {
    /// Prepares a call to `sip:<user>@<server>` on fresh loopback sockets.
    pub fn new(server: SocketAddr, user: &str) -> io::Result<UacCall> {
        let sip = netstamp::bind_loopback()?;
        let rtp = netstamp::bind_loopback()?;
        let port = sip.local_addr()?.port();
        let uri = format!("sip:{user}@{server}");
        Ok(UacCall {
            from: format!("<sip:bench@127.0.0.1:{port}>;tag={}", token()),
            to: format!("<{uri}>"),
            call_id: format!("{}@bench", token()),
            remote_target: uri.clone(),
            uri,
            sip,
            rtp,
            server,
            cseq: 1,
        })
    }

    /// The SIP Call-ID (how the API's live and stored calls name the caller's leg).
    #[allow(dead_code)] // speech_load and eval find their calls by it; sip_load does not
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    fn via(&self) -> String {
        let port = self.sip.local_addr().map(|a| a.port()).unwrap_or(0);
        format!(
            "SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{};rport",
            token()
        )
    }

    fn offer(&self) -> io::Result<String> {
        let port = self.rtp.local_addr()?.port();
        Ok(format!(
            "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
        ))
    }

    /// A request in the dialog (or the INVITE that starts it).
    fn request(&self, method: &str, cseq: u32, via: &str, body: Option<&str>) -> String {
        let target = if method == "INVITE" {
            &self.uri
        } else {
            &self.remote_target
        };
        let port = self.sip.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut r = format!(
            "{method} {target} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\nFrom: {}\r\n\
             To: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:bench@127.0.0.1:{port}>\r\nUser-Agent: humanline-bench\r\n",
            self.from, self.to, self.call_id
        );
        match body {
            Some(b) => {
                r += &format!(
                    "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                    b.len()
                )
            }
            None => r += "Content-Length: 0\r\n\r\n",
        }
        r
    }

    fn send(&self, text: &str) -> io::Result<()> {
        self.sip.send_to(text.as_bytes(), self.server).map(|_| ())
    }

    /// Waits up to `wait` for a SIP message of this call; `None` on timeout.
    fn recv(&self, wait: Duration) -> io::Result<Option<(SipMsg, SystemTime)>> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let until = Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.sip.set_read_timeout(Some(left))?;
            match netstamp::recv(&self.sip, &mut buf) {
                Ok((n, _, at)) => match SipMsg::parse(&buf[..n]) {
                    Some(m) if m.header("Call-ID") == Some(self.call_id.as_str()) => {
                        return Ok(Some((m, at)))
                    }
                    _ => continue,
                },
                Err(e) if is_timeout(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends the INVITE (retransmitted like SIP timer A until a response), waits for the final
    /// answer and ACKs a 200. Errors carry the final status or say what timed out.
    pub fn invite(&mut self, timeout: Duration) -> Result<Answered, String> {
        let via = self.via();
        let offer = self.offer().map_err(|e| e.to_string())?;
        let invite = self.request("INVITE", 1, &via, Some(&offer));
        let start = Instant::now();
        let mut next_retx = T1;
        let mut provisional = false;
        self.send(&invite)
            .map_err(|e| format!("send INVITE: {e}"))?;
        loop {
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Err(format!("no final answer to INVITE in {timeout:?}"));
            }
            let wait = if provisional {
                timeout - elapsed
            } else {
                next_retx
                    .saturating_sub(elapsed)
                    .max(Duration::from_millis(1))
            };
            let got = self.recv(wait).map_err(|e| e.to_string())?;
            let Some((msg, at)) = got else {
                if !provisional && start.elapsed() >= next_retx {
                    self.send(&invite).map_err(|e| e.to_string())?;
                    next_retx = start.elapsed() + (next_retx * 2).min(Duration::from_secs(4));
                }
                continue;
            };
            match (msg.status(), msg.cseq_method()) {
                (Some(s), Some("INVITE")) if s < 200 => provisional = true,
                (Some(s), Some("INVITE")) if s < 300 => {
                    self.to = msg.header("To").unwrap_or_default().to_string();
                    if let Some(c) = msg.header("Contact") {
                        self.remote_target = strip_angle(c);
                    }
                    self.ack().map_err(|e| e.to_string())?;
                    let server_rtp = sdp_audio_addr(&msg.body)
                        .ok_or_else(|| format!("200 OK without a usable SDP: {}", msg.body))?;
                    return Ok(Answered {
                        ok_at: at,
                        server_rtp,
                    });
                }
                (Some(_), Some("INVITE")) => {
                    // A failure is ACKed inside the INVITE's transaction (same branch).
                    self.to = msg.header("To").unwrap_or_default().to_string();
                    let _ = self.send(&self.request("ACK", 1, &via, None));
                    return Err(format!(
                        "INVITE answered {}",
                        msg.start.get(8..).unwrap_or("")
                    ));
                }
                _ => {}
            }
        }
    }

    /// ACKs the 200 OK (a new transaction: new branch).
    fn ack(&self) -> io::Result<()> {
        let ack = self.request("ACK", 1, &self.via(), None);
        self.send(&ack)
    }

    /// Answers what the server sent since the last look, without waiting: a retransmitted
    /// 200 OK gets its ACK again, a BYE its 200. Returns whether the server hung up.
    pub fn service(&self) -> io::Result<bool> {
        let mut hung_up = false;
        while let Some((msg, _)) = self.recv(Duration::from_millis(1))? {
            match (msg.method(), msg.status(), msg.cseq_method()) {
                (None, Some(s), Some("INVITE")) if (200..300).contains(&s) => self.ack()?,
                (Some("BYE"), _, _) => {
                    self.send(&msg.response(200, "OK", "bench"))?;
                    hung_up = true;
                }
                (Some(m), _, _) if m != "ACK" => self.send(&msg.response(200, "OK", "bench"))?,
                _ => {}
            }
        }
        Ok(hung_up)
    }

    /// Hangs up: BYE, retransmitted until its 200 (or `timeout`).
    pub fn bye(&mut self, timeout: Duration) -> Result<(), String> {
        self.cseq += 1;
        let bye = self.request("BYE", self.cseq, &self.via(), None);
        let start = Instant::now();
        let mut next_retx = T1;
        self.send(&bye).map_err(|e| format!("send BYE: {e}"))?;
        while start.elapsed() < timeout {
            let wait = next_retx
                .saturating_sub(start.elapsed())
                .max(Duration::from_millis(1));
            match self.recv(wait).map_err(|e| e.to_string())? {
                Some((msg, _)) if msg.cseq_method() == Some("BYE") && msg.status().is_some() => {
                    return match msg.status() {
                        Some(s) if (200..300).contains(&s) => Ok(()),
                        _ => Err(format!("BYE answered {}", msg.start)),
                    };
                }
                Some((msg, _)) if msg.status().is_some_and(|s| (200..300).contains(&s)) => {
                    self.ack().map_err(|e| e.to_string())?;
                }
                Some(_) => {}
                None => {
                    self.send(&bye).map_err(|e| e.to_string())?;
                    next_retx = start.elapsed() + (next_retx * 2).min(Duration::from_secs(4));
                }
            }
        }
        Err(format!("no answer to BYE in {timeout:?}"))
    }
}

fn strip_angle(contact: &str) -> String {
    let c = contact.trim();
    match (c.find('<'), c.find('>')) {
        (Some(a), Some(b)) if a < b => c[a + 1..b].to_string(),
        _ => c.split(';').next().unwrap_or(c).to_string(),
    }
}

/// Whether a socket error is a read timeout (EAGAIN or ETIMEDOUT).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
