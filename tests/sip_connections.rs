//! Nobody can take the sockets that calls need. With the server held to 1,024 open files,
//! 5,000 idle SIP-over-TCP connections from one address leave a UDP call and a TCP call
//! answered and `/healthz` answering; an idle connection, and one that drips a message, is
//! closed; one source address holds at most `[sip] max_calls_per_source` calls at once.

mod common;

use common::rawsip::RawCall;
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, pause, Offer, Ports, Transport};
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The stranger's address.
const ATTACKER: [u8; 4] = [127, 0, 0, 2];

/// Raises this test process's own open-files limit so that it can hold thousands of sockets.
fn raise_own_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    lim.rlim_cur
}

/// A TCP connection to `to` from `from`, or `None` when the server's backlog did not take it
/// in time.
fn connect_from(from: [u8; 4], to: SocketAddr) -> Option<TcpStream> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    s.bind(&SocketAddr::from((from, 0)).into()).ok()?;
    s.connect_timeout(&to.into(), Duration::from_millis(300))
        .ok()?;
    Some(s.into())
}

/// Whether the server closed `s` within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(50))).ok();
    let end = Instant::now() + within;
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn five_thousand_idle_tcp_connections_from_one_address_leave_calls_and_healthz_served() {
    let _g = serial();
    let have = raise_own_files_limit();
    assert!(have >= 6000, "the test needs 6,000 open files, has {have}");
    let server = TestServer::start(ServerOptions {
        open_files: Some(1024),
        ..ServerOptions::default()
    });
    let sip = server.sip_addr();
    let mut idle = Vec::new();
    let t = Instant::now();
    for _ in 0..5000 {
        if let Some(s) = connect_from(ATTACKER, sip) {
            idle.push(s);
        }
    }
    eprintln!(
        "{} of 5,000 connections made in {:.1} s",
        idle.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        idle.len() >= 1000,
        "the stranger got connections in: {}",
        idle.len()
    );
    let log = server.log();
    assert!(
        log.contains("limits lowered to fit"),
        "the server sized its caps under 1,024 files:\n{log}"
    );
    // A UDP call is answered.
    let mut udp = RawCall::new(sip, "support");
    udp.send_invite();
    let answer = udp.wait_final(Duration::from_secs(5));
    assert_eq!(
        answer.as_ref().map(|a| a.code()),
        Some(200),
        "UDP call answered under the attack"
    );
    // A TCP call (sipp, from 127.0.0.1) is answered.
    let work = tempfile::tempdir().unwrap();
    let tcp = sipp::caller(
        work.path(),
        Ports::free(),
        sip,
        Transport::Tcp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(500)],
    )
    .wait(Duration::from_secs(20));
    assert!(
        tcp.first_received("SIP/2.0 200").is_some(),
        "TCP call answered under the attack:\n{}",
        tcp.report()
    );
    let (code, body) = server.get_anon("/healthz");
    assert_eq!((code, body.trim()), (200, "ok"));
    let held = server.metric("humanline_sip_tcp_connections") as u64;
    assert!(held <= 120, "the server holds few of them: {held}");
    let refused = server.metric("humanline_sip_tcp_closed_total") as u64;
    assert!(refused >= 900, "the rest were closed at once: {refused}");
    drop(idle);
}

#[test]
fn idle_and_dripping_tcp_connections_are_closed() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        sip_extra: "tcp_idle_timeout_seconds = 1.5\ntcp_message_timeout_seconds = 1.5".into(),
        ..ServerOptions::default()
    });
    let sip = server.sip_addr();
    // Keep-alives do not keep a connection alive for ever, but they are not a slow message.
    let mut idle = connect_from(ATTACKER, sip).expect("connect");
    idle.write_all(b"\r\n\r\n").unwrap();
    assert!(!closed_within(&mut idle, Duration::from_millis(800)));
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)),
        "an idle connection is closed"
    );
    // A message dripped a line at a time never finishes.
    let mut drip = connect_from(ATTACKER, sip).expect("connect");
    let started = Instant::now();
    let mut closed = false;
    for line in [
        "OPTIONS sip:support@127.0.0.1 SIP/2.0\r\n",
        "Via: SIP/2.0/TCP 127.0.0.2:5999;branch=z9hG4bKdrip\r\n",
    ]
    .iter()
    .cycle()
    .take(40)
    {
        if drip.write_all(line.as_bytes()).is_err()
            || closed_within(&mut drip, Duration::from_millis(300))
        {
            closed = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(
        closed && took < Duration::from_secs(4),
        "a dripping message is cut off after the message timeout ({:.1} s)",
        took.as_secs_f64()
    );
    // Someone sending whole messages is served.
    let mut ok = connect_from([127, 0, 0, 1], sip).expect("connect");
    ok.write_all(
        b"OPTIONS sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKok1\r\nFrom: <sip:t@127.0.0.1>;tag=a\r\nTo: <sip:support@127.0.0.1>\r\nCall-ID: tcp-ok-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    ok.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = [0u8; 2048];
    let n = ok.read(&mut buf).unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200"),
        "OPTIONS answered: {}",
        String::from_utf8_lossy(&buf[..n])
    );
}

#[test]
fn one_source_holds_at_most_its_share_of_calls() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        sip_extra: "max_calls_per_source = 2".into(),
        ..ServerOptions::default()
    });
    let sip = server.sip_addr();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = RawCall::from_address(sip, "support", &[0, 101], ATTACKER);
        c.send_invite();
        let r = c.wait_final(Duration::from_secs(5)).map(|r| r.code());
        assert_eq!(r, Some(200), "the source's first calls are answered");
        held.push(c);
    }
    let mut third = RawCall::from_address(sip, "support", &[0, 101], ATTACKER);
    third.send_invite();
    let r = third.wait_final(Duration::from_secs(5));
    assert_eq!(
        r.as_ref().map(|r| r.code()),
        Some(503),
        "a third call from the same source is refused"
    );
    assert!(r
        .and_then(|r| r.header("Retry-After").map(str::to_string))
        .is_some());
    // Another source is not affected.
    let mut other = RawCall::new(sip, "support");
    other.send_invite();
    assert_eq!(
        other.wait_final(Duration::from_secs(5)).map(|r| r.code()),
        Some(200)
    );
}
