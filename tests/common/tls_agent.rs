//! An agent's phone over SIP/TLS with SDES-SRTP, in Rust: it registers on its own TLS
//! connection (SHA-256 digest), takes the server's INVITE on that same connection, answers it
//! with `RTP/SAVP` and a key of its own (or with plain RTP, to be refused), and talks on a UDP
//! socket through `humanline::media::SrtpSession`, counting what authenticates.
#![allow(dead_code)]

use super::rawsip::{
    branch, digest_sha256, linear_to_ulaw, response, token, ulaw_to_linear, SipMsg,
};
use super::tls::{SelfSigned, TlsSip};
use humanline::media::SrtpSession;
use humanline::sip::sdes::{self, Crypto, MasterKey};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// How the phone answers the server's INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `RTP/SAVP` with a key under the suite and tag of the server's first crypto line.
    Srtp,
    /// Plain `RTP/AVP`, no key.
    Plain,
}

/// What the phone heard while it talked.
#[derive(Debug, Default)]
pub struct Heard {
    /// Datagrams received.
    pub packets: usize,
    /// Of them, those that authenticated and decrypted (all of them, on a plain leg).
    pub opened: usize,
    /// The payload bytes as they crossed the wire (ciphertext on an SRTP leg).
    pub wire_payload: Vec<u8>,
    /// Each PCMU packet's audio, decrypted and decoded.
    pub frames: Vec<Vec<i16>>,
}

impl Heard {
    /// Packets whose 20 ms is a pure tone at `freq`.
    pub fn tone_packets(&self, freq: f64) -> usize {
        self.frames
            .iter()
            .filter(|f| super::rawsip::tone_fraction(f, freq) > 0.8)
            .count()
    }
}

/// An agent's phone registered over TLS.
pub struct TlsAgent {
    pub sip: TlsSip,
    pub user: String,
    pub media: UdpSocket,
    /// The server's INVITE, once taken.
    pub invite: Option<SipMsg>,
    to_tag: String,
    cseq: u32,
    srtp: Option<SrtpSession>,
    peer: Option<SocketAddr>,
    seq: u16,
    ts: u32,
}

impl TlsAgent {
    /// Connects to the server's TLS port and registers as `user` (digest SHA-256); panics
    /// unless the REGISTER gets 200.
    pub fn register(tls: SocketAddr, cert: &SelfSigned, user: &str, password: &str) -> TlsAgent {
        let mut sip = TlsSip::connect(tls, cert);
        let local = sip.local;
        let call_id = token("treg");
        let uri = format!("sip:{tls};transport=tls");
        let mut auth = String::new();
        for cseq in 1..=2 {
            sip.send(&format!(
                "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch={b};rport\r\n\
                 From: <sip:{user}@127.0.0.1>;tag={tag}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
                 Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nMax-Forwards: 70\r\n\
                 Contact: <sip:{user}@{local};transport=tls>\r\n{auth}Content-Length: 0\r\n\r\n",
                b = branch(),
                tag = token("t"),
            ));
            let r = sip
                .recv_until(Duration::from_secs(5), |m| {
                    m.is_response() && m.call_id() == Some(call_id.as_str())
                })
                .unwrap_or_else(|| panic!("{user}: no answer to REGISTER over TLS"));
            match r.code() {
                200 => return TlsAgent::on(sip, user),
                401 => {
                    let challenge = r
                        .all("WWW-Authenticate")
                        .into_iter()
                        .find(|c| c.contains("SHA-256"))
                        .expect("a SHA-256 challenge")
                        .to_string();
                    auth = digest_sha256(user, password, &challenge, "REGISTER", &uri);
                }
                other => panic!("{user}: REGISTER over TLS got {other}:\n{}", r.raw),
            }
        }
        panic!("{user}: REGISTER over TLS still challenged after answering")
    }

    /// A phone listening for the server on `listener` (a `sips:` static agent): the connection
    /// the server opens to it, once it does within `timeout`.
    pub fn accept(
        listener: &std::net::TcpListener,
        cert: &SelfSigned,
        user: &str,
        timeout: Duration,
    ) -> Option<TlsAgent> {
        Some(TlsAgent::on(TlsSip::accept(listener, cert, timeout)?, user))
    }

    fn on(sip: TlsSip, user: &str) -> TlsAgent {
        TlsAgent {
            sip,
            user: user.to_string(),
            media: UdpSocket::bind("127.0.0.1:0").expect("agent media socket"),
            invite: None,
            to_tag: token("tagent"),
            cseq: 1,
            srtp: None,
            peer: None,
            seq: 7000,
            ts: 16000,
        }
    }

    /// A caller instead of an agent: connects to the TLS port, INVITEs `sip:<plan>@server`
    /// with an `RTP/SAVP` offer carrying a key of its own, takes the 200 (its key) and ACKs.
    pub fn call(tls: SocketAddr, cert: &SelfSigned, plan: &str) -> TlsAgent {
        let mut me = TlsAgent::on(TlsSip::connect(tls, cert), "caller");
        let local = me.sip.local;
        let ours = Crypto {
            tag: 1,
            suite: sdes::Suite::AesCm128HmacSha1_80,
            key: MasterKey::random().unwrap(),
        };
        let port = me.media.local_addr().unwrap().port();
        let body = sdp(port, "RTP/SAVP", Some(&ours));
        let (cid, ftag) = (token("tcall"), token("f"));
        let head = format!(
            "sip:{plan}@{tls};transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch={b};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1>;tag={ftag}\r\nTo: <sip:{plan}@{tls}>\r\n\
             Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{local};transport=tls>\r\n",
            b = branch(),
        );
        me.sip.send(&format!(
            "INVITE {head}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        let ok = me
            .sip
            .recv_until(Duration::from_secs(10), |m| {
                m.is_response() && m.code() >= 200 && m.call_id() == Some(cid.as_str())
            })
            .expect("an answer to the INVITE over TLS");
        assert_eq!(ok.code(), 200, "{}", ok.raw);
        let theirs = offered_crypto(&ok.body).expect("the answer carries the server's key");
        me.srtp = Some(SrtpSession::new(&ours, &theirs).unwrap());
        me.peer = ok.sdp_media();
        let target = ok.contact_uri().expect("a Contact in the 200");
        let to = ok.header("To").unwrap_or("").to_string();
        me.sip.send(&format!(
            "ACK {target} SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch={b};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:caller@127.0.0.1>;tag={ftag}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: 1 ACK\r\n\
             Content-Length: 0\r\n\r\n",
            b = branch(),
        ));
        me
    }

    /// Presses `digit` as RFC 4733 events on payload type 101 (protected on an SRTP leg).
    pub fn press(&mut self, digit: char) {
        let peer = self.peer.expect("the server's RTP address");
        let event = digit.to_digit(10).expect("a digit key") as u8;
        for (i, (end, dur)) in [
            (false, 160u16),
            (false, 320),
            (false, 480),
            (true, 640),
            (true, 640),
            (true, 640),
        ]
        .into_iter()
        .enumerate()
        {
            let mut p = vec![0x80, 101 | if i == 0 { 0x80 } else { 0 }];
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ts.to_be_bytes());
            p.extend_from_slice(&0x5151_5151u32.to_be_bytes());
            p.extend_from_slice(&[
                event,
                if end { 0x8a } else { 0x0a },
                (dur >> 8) as u8,
                dur as u8,
            ]);
            let wire = match &mut self.srtp {
                Some(s) => s.protect(&p).expect("protect"),
                None => p,
            };
            self.media.send_to(&wire, peer).expect("RTP send");
            self.seq = self.seq.wrapping_add(1);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.ts = self.ts.wrapping_add(800);
    }

    /// Waits for the server's INVITE on this phone's connection and answers it `how` (100,
    /// 180, 200 with SDP); the INVITE.
    pub fn take_invite(&mut self, how: Answer, timeout: Duration) -> Option<SipMsg> {
        let inv = self
            .sip
            .recv_until(timeout, |m| !m.is_response() && m.method() == "INVITE")?;
        self.invite = Some(inv.clone());
        self.peer = inv.sdp_media();
        let local = self.sip.local;
        let contact = format!("Contact: <sip:{}@{local};transport=tls>\r\n", self.user);
        let tag = self.to_tag.clone();
        self.sip.send(&response(&inv, 100, "Trying", None, "", ""));
        self.sip
            .send(&response(&inv, 180, "Ringing", Some(&tag), &contact, ""));
        let port = self.media.local_addr().unwrap().port();
        let body = match how {
            Answer::Plain => sdp(port, "RTP/AVP", None),
            Answer::Srtp => {
                let theirs = offered_crypto(&inv.body).expect("the INVITE offers SDES keys");
                let ours = Crypto {
                    key: MasterKey::random().unwrap(),
                    ..theirs.clone()
                };
                self.srtp = Some(SrtpSession::new(&ours, &theirs).expect("an SRTP session"));
                sdp(port, "RTP/SAVP", Some(&ours))
            }
        };
        self.sip
            .send(&response(&inv, 200, "OK", Some(&tag), &contact, &body));
        Some(inv)
    }

    /// Waits for a request of `method` in the server's dialog, on this phone's connection.
    pub fn wait_request(&mut self, method: &str, timeout: Duration) -> Option<SipMsg> {
        let cid = self.invite.as_ref()?.call_id()?.to_string();
        self.sip.recv_until(timeout, |m| {
            !m.is_response() && m.method() == method && m.call_id() == Some(cid.as_str())
        })
    }

    /// Answers `req` with `code`.
    pub fn reply(&mut self, req: &SipMsg, code: u16, reason: &str) {
        let tag = self.to_tag.clone();
        self.sip
            .send(&response(req, code, reason, Some(&tag), "", ""));
    }

    /// Sends a tone at `freq` for `secs` in paced 20 ms PCMU packets (SRTP when answered so)
    /// while reading what comes back; what it heard.
    pub fn talk(&mut self, freq: f64, secs: f64) -> Heard {
        let peer = self.peer.expect("the server's RTP address from its offer");
        let samples = super::rawsip::tone(freq, secs, 8000.0);
        let mut heard = Heard::default();
        let start = Instant::now();
        self.media.set_nonblocking(true).unwrap();
        for (i, chunk) in samples.chunks(160).enumerate() {
            let mut p = vec![0x80, if i == 0 { 0x80 } else { 0 }];
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ts.to_be_bytes());
            p.extend_from_slice(&0x5151_5151u32.to_be_bytes());
            p.extend(chunk.iter().map(|s| linear_to_ulaw(*s)));
            let wire = match &mut self.srtp {
                Some(s) => s.protect(&p).expect("protect"),
                None => p,
            };
            self.media.send_to(&wire, peer).expect("agent RTP send");
            self.seq = self.seq.wrapping_add(1);
            self.ts = self.ts.wrapping_add(160);
            let due = start + Duration::from_millis(20 * (i as u64 + 1));
            while Instant::now() < due {
                self.read_one(&mut heard);
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        self.media.set_nonblocking(false).unwrap();
        heard
    }

    fn read_one(&mut self, heard: &mut Heard) {
        let mut buf = [0u8; 2048];
        while let Ok((n, _)) = self.media.recv_from(&mut buf) {
            heard.packets += 1;
            let wire = &buf[..n];
            let plain = match &mut self.srtp {
                Some(s) => match s.unprotect(wire) {
                    Ok(p) => p,
                    Err(_) => continue,
                },
                None => wire.to_vec(),
            };
            heard.opened += 1;
            if plain.len() < 12 || plain[1] & 0x7f != 0 {
                continue;
            }
            // Payload on the wire: between the header and the tag (the tag is not audio).
            let tag = if self.srtp.is_some() { 10 } else { 0 };
            heard
                .wire_payload
                .extend_from_slice(&wire[12..wire.len().saturating_sub(tag).max(12)]);
            heard
                .frames
                .push(plain[12..].iter().map(|b| ulaw_to_linear(*b)).collect());
        }
    }

    /// Hangs up: BYE on this phone's connection; its final response.
    pub fn bye(&mut self) -> Option<SipMsg> {
        let inv = self.invite.clone().expect("an INVITE was answered");
        self.cseq += 1;
        let local = self.sip.local;
        let target = inv.contact_uri().expect("the INVITE's Contact");
        let cid = inv.call_id().unwrap_or("").to_string();
        let body = format!(
            "BYE {target} SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch={br};rport\r\nMax-Forwards: 70\r\n\
             From: {from};tag={tag}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n",
            br = branch(),
            from = inv.header("To").unwrap_or(""),
            tag = self.to_tag,
            to = inv.header("From").unwrap_or(""),
            cseq = self.cseq,
        );
        self.sip.send(&body);
        self.sip.recv_until(Duration::from_secs(5), |m| {
            m.is_response() && m.call_id() == Some(cid.as_str())
        })
    }
}

/// The first usable `a=crypto:` line of an SDP body.
pub fn offered_crypto(body: &str) -> Option<Crypto> {
    let lines: Vec<String> = body
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("a=crypto:").map(str::to_string))
        .collect();
    sdes::pick(&lines)
}

/// All `a=crypto:` lines of an SDP body.
pub fn crypto_lines(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.trim_end().strip_prefix("a=crypto:").map(str::to_string))
        .collect()
}

fn sdp(port: u16, protocol: &str, crypto: Option<&Crypto>) -> String {
    let mut s = format!(
        "v=0\r\no=agent 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} {protocol} 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    );
    if let Some(c) = crypto {
        s.push_str(&format!("a=crypto:{}\r\n", c.to_value()));
    }
    s.push_str("a=ptime:20\r\na=sendrecv\r\n");
    s
}

/// Shannon entropy of `bytes` in bits per byte (8 for random bytes; G.711 tones and speech
/// are far lower).
pub fn entropy(bytes: &[u8]) -> f64 {
    let mut n = [0usize; 256];
    bytes.iter().for_each(|&b| n[b as usize] += 1);
    let total = bytes.len().max(1) as f64;
    n.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}
