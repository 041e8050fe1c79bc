//! SIP over TLS and SDES-SRTP against the running server, with a real TLS client (rustls, a
//! self-signed certificate made by rcgen) and real UDP media sockets.
//!
//! sipp on this machine (Debian's sip-tester 3.6.1) is built without OpenSSL ("To use a TLS
//! transport you must compile SIPp with OpenSSL"), so the TLS client here is our own; baresip
//! covers interop (tests/baresip_tls.rs). Rebuilding it is not possible from the registry (its
//! source tarballs are not served), and Debian 13's sip-tester 3.7.3, built with wolfSSL and run
//! on its own glibc, never completes a TLS handshake here, against this server or
//! `openssl s_server` (`SSL_connect ... SSL_ERROR_WANT_READ`, then ENOTCONN; SIPp/sipp#719).

mod common;

use common::rawsip::{branch, token, SipMsg, SipSocket};
use common::server::{free_port, serial, ServerOptions, TestServer};
use common::tls::{self, SelfSigned, TlsSip};
use humanline::media::SrtpSession;
use humanline::sip::sdes::{self, Crypto, MasterKey, Suite};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

struct TlsServer {
    server: TestServer,
    cert: SelfSigned,
    tls: SocketAddr,
    _dir: tempfile::TempDir,
}

fn start(extra: &str) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let cert = tls::self_signed(dir.path());
    let port = free_port();
    let server = TestServer::start(ServerOptions {
        sip_extra: format!("{}{extra}", tls::sip_lines(port, &cert)),
        ..ServerOptions::default()
    });
    TlsServer {
        server,
        cert,
        tls: SocketAddr::from(([127, 0, 0, 1], port)),
        _dir: dir,
    }
}

fn our_key() -> Crypto {
    Crypto {
        tag: 1,
        suite: Suite::AesCm128HmacSha1_80,
        key: MasterKey::random().unwrap(),
    }
}

fn sdp(media_port: u16, protocol: &str, crypto: Option<&Crypto>) -> String {
    let mut s = format!(
        "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {media_port} {protocol} 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    );
    if let Some(c) = crypto {
        s.push_str(&format!("a=crypto:{}\r\n", c.to_value()));
    }
    s.push_str("a=ptime:20\r\na=sendrecv\r\n");
    s
}

struct Dialog {
    call_id: String,
    from_tag: String,
    local: SocketAddr,
    transport: &'static str,
    server: SocketAddr,
}

impl Dialog {
    fn new(local: SocketAddr, server: SocketAddr, transport: &'static str) -> Dialog {
        Dialog {
            call_id: token("tls-"),
            from_tag: token("f"),
            local,
            transport,
            server,
        }
    }

    fn request(&self, method: &str, cseq: u32, to_tag: Option<&str>, body: &str) -> String {
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let param = if self.transport == "UDP" {
            String::new()
        } else {
            format!(";transport={}", self.transport.to_ascii_lowercase())
        };
        let mut h = format!(
            "{method} sip:support@{srv}{param} SIP/2.0\r\nVia: SIP/2.0/{t} {local};branch={br};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag={ft}\r\nTo: <sip:support@{srv}>{to_tag}\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:tester@{local}{param}>\r\n",
            srv = self.server,
            t = self.transport,
            local = self.local,
            br = branch(),
            ft = self.from_tag,
            cid = self.call_id,
        );
        if !body.is_empty() {
            h.push_str("Content-Type: application/sdp\r\n");
        }
        h.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        h
    }
}

fn final_response(c: &mut TlsSip, call_id: &str) -> Option<SipMsg> {
    c.recv_until(Duration::from_secs(10), |m| {
        m.is_response() && m.code() >= 200 && m.call_id() == Some(call_id)
    })
}

fn crypto_of(sdp_text: &str) -> Option<Crypto> {
    let lines: Vec<String> = sdp_text
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("a=crypto:").map(str::to_string))
        .collect();
    sdes::pick(&lines)
}

fn options(server: SocketAddr, local: SocketAddr, transport: &str) -> String {
    common::rawsip::options(server, local, transport)
}

fn udp_options_answered(server: SocketAddr) -> bool {
    let mut s = SipSocket::bind();
    let local = s.local;
    s.send_to(&options(server, local, "UDP"), server);
    s.recv(Duration::from_secs(3))
        .is_some_and(|m| m.code() == 200)
}

#[test]
fn options_over_tls_are_answered_on_the_same_connection() {
    let _g = serial();
    let t = start("");
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let local = c.local;
    c.send(&options(t.tls, local, "TLS"));
    let r = c
        .recv(Duration::from_secs(5))
        .expect("an answer on the TLS connection");
    assert_eq!(r.code(), 200, "{}", r.raw);
    let via = r.header("Via").unwrap_or_default();
    assert!(via.starts_with("SIP/2.0/TLS"), "our Via echoed: {via}");
    // A second request on the same connection is answered too.
    c.send(&options(t.tls, local, "TLS"));
    assert_eq!(c.recv(Duration::from_secs(5)).map(|m| m.code()), Some(200));
}

#[test]
fn a_call_over_tls_with_srtp_is_encrypted_both_ways() {
    let _g = serial();
    let t = start("");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let ours = our_key();
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let d = Dialog::new(c.local, t.tls, "TLS");
    let offer = sdp(media.local_addr().unwrap().port(), "RTP/SAVP", Some(&ours));
    c.send(&d.request("INVITE", 1, None, &offer));
    let ok = final_response(&mut c, &d.call_id).expect("a final answer over TLS");
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    let contact = ok.header("Contact").unwrap_or_default().to_string();
    assert!(
        contact.contains(";transport=tls") && contact.contains(&format!(":{}", t.tls.port())),
        "Contact names our TLS listener: {contact}"
    );
    assert!(ok.body.contains("RTP/SAVP"), "an SRTP answer:\n{}", ok.body);
    let theirs = crypto_of(&ok.body).expect("the answer carries a usable a=crypto");
    assert_eq!(theirs.tag, ours.tag, "the answer echoes our tag");
    assert_ne!(theirs.key, ours.key, "the server keys its own direction");
    let to_tag = ok.to_tag().expect("To tag");
    c.send(&d.request("ACK", 1, Some(&to_tag), ""));

    // What the server sends: SRTP that only its key opens, carrying the welcome prompt.
    let mut srtp = SrtpSession::new(&ours, &theirs).unwrap();
    let mut wire = Vec::new();
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(3);
    let mut server_rtp: Option<SocketAddr> = None;
    while Instant::now() < until {
        if let Ok((n, from)) = media.recv_from(&mut buf) {
            server_rtp = Some(from);
            wire.push(buf[..n].to_vec());
        }
    }
    assert!(
        wire.len() >= 100,
        "about 50 packets a second: {}",
        wire.len()
    );
    let mut plain = Vec::new();
    for w in &wire {
        let p = srtp
            .unprotect(w)
            .unwrap_or_else(|e| panic!("every packet authenticates under the answer's key: {e}"));
        assert_eq!(w.len(), p.len() + 10, "an 80-bit tag on every packet");
        assert_eq!(p[1] & 0x7f, 0, "PCMU inside");
        assert_ne!(
            &w[12..p.len()],
            &p[12..],
            "the payload is not sent in clear"
        );
        plain.push(p);
    }
    let pcm: Vec<f64> = plain
        .iter()
        .flat_map(|p| {
            p[12..]
                .iter()
                .map(|&u| common::rawsip::ulaw_to_linear(u) as f64)
        })
        .collect();
    let loud = pcm.chunks(400).any(|w| {
        let rms = (w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64).sqrt();
        20.0 * (rms / 32768.0).log10() > -40.0
    });
    assert!(loud, "the decrypted stream carries the prompt's sound");
    // The ciphertext looks random: its bytes spread over the whole range, where µ-law speech
    // and silence keep to a few values.
    let mut seen = [0usize; 256];
    wire.iter()
        .flat_map(|w| &w[12..w.len() - 10])
        .for_each(|&b| seen[b as usize] += 1);
    assert!(
        seen.iter().all(|&n| n > 0),
        "every byte value occurs in the ciphertext"
    );

    // What we send: SRTP DTMF '1' reaches the call; the same key press in clear does not.
    let server_rtp = server_rtp.unwrap();
    let event = |seq: u16, ts: u32, digit: u8, end: bool, marker: bool| {
        let mut p = vec![0x80, 101 | if marker { 0x80 } else { 0 }];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.extend_from_slice(&[digit, if end { 0x8a } else { 0x0a }, 0x03, 0x20]);
        p
    };
    // A plain (unprotected) '2' first: refused and counted.
    for i in 0..4u16 {
        media
            .send_to(&event(100 + i, 8000, 2, i == 3, i == 0), server_rtp)
            .unwrap();
    }
    for i in 0..4u16 {
        let p = srtp
            .protect(&event(200 + i, 16000, 1, i == 3, i == 0))
            .unwrap();
        media.send_to(&p, server_rtp).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let pressed = t.server.wait_for(Duration::from_secs(5), |s| {
        s.live_calls()
            .into_iter()
            .find(|c| c["dtmf"].as_str().is_some_and(|k| k.contains('1')))
    });
    assert!(
        pressed.is_some(),
        "the SRTP key press reaches the call: {:?}",
        t.server.live_calls()
    );
    let keys = pressed.unwrap()["dtmf"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !keys.contains('2'),
        "the key sent in clear is not taken: {keys}"
    );
    assert!(t.server.metric("humanline_srtp_rejected_total") >= 1.0);

    c.send(&d.request("BYE", 2, Some(&to_tag), ""));
    let bye = final_response(&mut c, &d.call_id).expect("BYE answered over TLS");
    assert_eq!(bye.code(), 200);
    assert!(t.server.wait_active(0, Duration::from_secs(5)));
}

#[test]
fn a_reinvite_on_an_srtp_call_keeps_its_keys() {
    let _g = serial();
    let t = start("");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = media.local_addr().unwrap().port();
    let ours = our_key();
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let d = Dialog::new(c.local, t.tls, "TLS");
    c.send(&d.request("INVITE", 1, None, &sdp(port, "RTP/SAVP", Some(&ours))));
    let ok = final_response(&mut c, &d.call_id).expect("answered");
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    let theirs = crypto_of(&ok.body).unwrap();
    let to_tag = ok.to_tag().unwrap();
    c.send(&d.request("ACK", 1, Some(&to_tag), ""));
    // Hold with the same key: the answer is recvonly and repeats the server's key.
    let hold = sdp(port, "RTP/SAVP", Some(&ours)).replace("a=sendrecv", "a=sendonly");
    c.send(&d.request("INVITE", 2, Some(&to_tag), &hold));
    let r = final_response(&mut c, &d.call_id).expect("the re-INVITE is answered");
    assert_eq!(r.code(), 200, "{}", r.raw);
    assert!(r.body.contains("a=recvonly"), "{}", r.body);
    assert_eq!(crypto_of(&r.body).map(|c| c.key), Some(theirs.key.clone()));
    // A new key in a re-INVITE is refused; the call goes on.
    let rekey = sdp(port, "RTP/SAVP", Some(&our_key()));
    c.send(&d.request("INVITE", 3, Some(&to_tag), &rekey));
    let r = final_response(&mut c, &d.call_id).expect("answered");
    assert_eq!(r.code(), 488, "{}", r.raw);
    assert_eq!(t.server.active(), 1);
    c.send(&d.request("BYE", 4, Some(&to_tag), ""));
    assert_eq!(
        final_response(&mut c, &d.call_id).map(|m| m.code()),
        Some(200)
    );
}

#[test]
fn a_sips_request_over_tls_is_answered_with_a_sips_contact() {
    let _g = serial();
    let t = start("");
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let d = Dialog::new(c.local, t.tls, "TLS");
    let invite = d
        .request("INVITE", 1, None, &sdp(free_port(), "RTP/AVP", None))
        .replacen("INVITE sip:", "INVITE sips:", 1);
    c.send(&invite);
    let ok = final_response(&mut c, &d.call_id).expect("a final answer over TLS");
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    let contact = ok.header("Contact").unwrap_or_default();
    assert!(
        contact.starts_with(&format!("<sips:humanline@127.0.0.1:{}>", t.tls.port())),
        "RFC 5630: a SIPS request gets a SIPS Contact: {contact}"
    );
    let to_tag = ok.to_tag().unwrap();
    c.send(&d.request("ACK", 1, Some(&to_tag), ""));
    c.send(&d.request("BYE", 2, Some(&to_tag), ""));
    assert_eq!(
        final_response(&mut c, &d.call_id).map(|m| m.code()),
        Some(200)
    );
}

#[test]
fn srtp_offers_the_server_cannot_honour_get_488() {
    let _g = serial();
    let t = start("");
    let media_port = free_port();
    // Over plain UDP: the keys would travel in clear.
    let mut s = SipSocket::bind();
    let udp = t.server.sip_addr();
    let d = Dialog::new(s.local, udp, "UDP");
    let offer = sdp(media_port, "RTP/SAVP", Some(&our_key()));
    s.send_to(&d.request("INVITE", 1, None, &offer), udp);
    let r = s
        .final_response(
            &d.call_id,
            "INVITE",
            Duration::from_secs(5),
            &mut Vec::new(),
        )
        .expect("an answer over UDP");
    assert_eq!(r.code(), 488, "{}", r.raw);
    // Over TLS without a suite we do.
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let d = Dialog::new(c.local, t.tls, "TLS");
    let offer = sdp(media_port, "RTP/SAVP", Some(&our_key()))
        .replace("AES_CM_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_80");
    c.send(&d.request("INVITE", 1, None, &offer));
    let r = final_response(&mut c, &d.call_id).expect("an answer over TLS");
    assert_eq!(r.code(), 488, "{}", r.raw);
    assert_eq!(t.server.active(), 0);
}

#[test]
fn plain_rtp_over_tls_is_refused_when_srtp_is_required() {
    let _g = serial();
    let t = start("require_srtp = true\n");
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let d = Dialog::new(c.local, t.tls, "TLS");
    c.send(&d.request("INVITE", 1, None, &sdp(free_port(), "RTP/AVP", None)));
    let r = final_response(&mut c, &d.call_id).expect("an answer over TLS");
    assert_eq!(r.code(), 488, "{}", r.raw);
    assert!(r.start.contains("SRTP Required"), "{}", r.start);
}

#[test]
fn garbage_and_stalled_handshakes_on_the_tls_port_do_not_hurt_the_server() {
    let _g = serial();
    let t = start("tcp_message_timeout_seconds = 1.0\n");
    // Plain SIP and junk where a ClientHello should be: closed.
    let mut junk = TcpStream::connect(t.tls).unwrap();
    junk.write_all(b"OPTIONS sip:x SIP/2.0\r\n\r\n\x16\x03\x01\xff\xff garbage")
        .unwrap();
    junk.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 512];
    let closed = match junk.read(&mut b) {
        Ok(n) => n < b.len(),
        Err(_) => true,
    };
    assert!(
        closed,
        "the server drops a connection that does not speak TLS"
    );
    // A handshake begun and never finished: closed after the message timeout.
    let mut stall = TcpStream::connect(t.tls).unwrap();
    stall
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x80, 0x01])
        .unwrap();
    stall
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let began = Instant::now();
    let r = stall.read(&mut b);
    assert!(
        matches!(r, Ok(0) | Err(_)) && began.elapsed() < Duration::from_secs(4),
        "a stalled handshake is cut off: {r:?} after {:?}",
        began.elapsed()
    );
    // The server goes on: UDP, and a proper TLS client.
    assert!(
        udp_options_answered(t.server.sip_addr()),
        "UDP still answered"
    );
    let mut c = TlsSip::connect(t.tls, &t.cert);
    let local = c.local;
    c.send(&options(t.tls, local, "TLS"));
    assert_eq!(c.recv(Duration::from_secs(5)).map(|m| m.code()), Some(200));
    assert!(
        t.server
            .metric("humanline_sip_tls_handshake_failures_total")
            >= 2.0
    );
}

#[test]
fn tls_bind_without_a_certificate_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("humanline.toml");
    std::fs::write(
        &config,
        format!(
            "[sip]\nbind = \"127.0.0.1:{}\"\ntls_bind = \"127.0.0.1:{}\"\n",
            free_port(),
            free_port()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_humanline"))
        .args(["serve", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the server does not start:\n{text}");
    assert!(
        text.contains("tls_cert") && text.contains("tls_key"),
        "the error names what is missing:\n{text}"
    );
}
