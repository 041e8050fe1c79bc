//! Slow and greedy web clients ("slowloris"): connections that drip their request headers or
//! body are cut off after `[http] header_timeout_seconds` / `request_timeout_seconds`, one
//! address cannot hold more than `[http] max_connections_per_ip`, and meanwhile others are
//! served as usual.

mod common;

use common::server::{serial, ServerOptions, TestServer};
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const PER_IP: usize = 16;
const HEADER_TIMEOUT_S: f64 = 2.0;
const REQUEST_TIMEOUT_S: f64 = 2.0;

/// A TCP connection to `to` from the loopback address `from` (127.0.0.x).
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    s.bind(&SocketAddr::from((from, 0)).into()).expect("bind");
    s.connect_timeout(&to.into(), Duration::from_secs(2))
        .expect("connect");
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(Duration::from_millis(100))).ok();
    s
}

/// What reading `s` shows now: `Some(bytes)` when the server closed it (with what it sent
/// before), `None` while it is open and silent.
fn closed(s: &mut TcpStream) -> Option<Vec<u8>> {
    s.set_read_timeout(Some(Duration::from_millis(20))).ok();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return if got.is_empty() { None } else { Some(got) };
            }
            Err(_) => return Some(got),
        }
    }
}

/// GET `path` from `from`: the status code and body, or `None` when the connection was closed
/// unanswered.
fn get_from(from: [u8; 4], to: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = connect_from(from, to);
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got).to_string();
    let code = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

fn status_from(from: [u8; 4], to: SocketAddr, path: &str) -> Option<u16> {
    get_from(from, to, path).map(|(code, _)| code)
}

/// A counter of `/metrics`, read from 127.0.0.4 (an address no test connection uses).
fn metric(to: SocketAddr, name: &str) -> u64 {
    let (_, body) = get_from([127, 0, 0, 4], to, "/metrics").expect("GET /metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} is exported: {body}"))
}

#[test]
fn slow_clients_are_cut_off_and_cannot_crowd_out_others() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        http_extra: format!(
            "header_timeout_seconds = {HEADER_TIMEOUT_S:?}\nrequest_timeout_seconds = {REQUEST_TIMEOUT_S:?}\nmax_connections_per_ip = {PER_IP}"
        ),
        ..Default::default()
    });
    let http = SocketAddr::from(([127, 0, 0, 1], server.http_port));
    let host = format!("Host: {http}\r\n");
    // The start-up probe's connection (from 127.0.0.1) may still hold its place a moment
    // after it read its answer: wait until only the metrics request itself is open, or one
    // dripping connection below would be refused and the one over the limit let in.
    let idle_by = Instant::now() + Duration::from_secs(5);
    while metric(http, "humanline_http_connections") > 1 && Instant::now() < idle_by {
        std::thread::sleep(Duration::from_millis(20));
    }

    // 127.0.0.1 takes every connection it may: plain requests and WebSocket handshakes whose
    // headers never end, each dripping a header line every 300 ms.
    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..PER_IP)
        .map(|i| {
            let mut s = connect_from([127, 0, 0, 1], http);
            let start = if i % 2 == 0 {
                format!("GET /healthz HTTP/1.1\r\n{host}")
            } else {
                format!(
                    "GET /ws/phone HTTP/1.1\r\n{host}Upgrade: websocket\r\nConnection: Upgrade\r\n"
                )
            };
            s.write_all(start.as_bytes()).expect("write");
            s
        })
        .collect();

    // One more from the same address is closed at once, unanswered (all of the above are
    // still held: none was refused).
    std::thread::sleep(Duration::from_millis(300));
    for (i, s) in slow.iter_mut().enumerate() {
        assert!(
            closed(s).is_none(),
            "dripping connection {i} was closed at once"
        );
    }
    let mut extra = connect_from([127, 0, 0, 1], http);
    let _ = extra.write_all(format!("GET /healthz HTTP/1.1\r\n{host}\r\n").as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    let got = closed(&mut extra).expect("the connection over the limit is closed");
    assert!(
        got.is_empty(),
        "closed unanswered: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(metric(http, "humanline_http_connections_refused_total") >= 1);

    // Another address is served at once while they hold their connections.
    let t = Instant::now();
    assert_eq!(status_from([127, 0, 0, 2], http, "/healthz"), Some(200));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // Dripping does not keep a connection: every slow one is closed soon after the header
    // timeout, though each kept sending.
    let mut open: Vec<usize> = (0..slow.len()).collect();
    let give_up = opened + Duration::from_secs_f64(HEADER_TIMEOUT_S + 4.0);
    while !open.is_empty() && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(300));
        open.retain(|&i| {
            let s = &mut slow[i];
            if s.write_all(b"X-Drip: 1\r\n").is_err() {
                return false;
            }
            match closed(s) {
                None => true,
                Some(got) => {
                    let text = String::from_utf8_lossy(&got);
                    // hyper may say 408 before closing; it never answers the request itself.
                    assert!(
                        got.is_empty() || text.starts_with("HTTP/1.1 408"),
                        "a slow client gets no answer: {text:?}"
                    );
                    false
                }
            }
        });
    }
    let took = opened.elapsed();
    assert!(
        open.is_empty(),
        "{} of {PER_IP} dripping connections still open after {took:?}",
        open.len()
    );
    assert!(
        took >= Duration::from_secs_f64(HEADER_TIMEOUT_S - 0.5),
        "not closed before the timeout: {took:?}"
    );

    // Their places came back: 127.0.0.1 is served again.
    assert_eq!(status_from([127, 0, 0, 1], http, "/healthz"), Some(200));

    // A body dripped in slowly gets 408 once the request timeout passes.
    let mut s = connect_from([127, 0, 0, 1], http);
    s.set_read_timeout(Some(Duration::from_secs(1))).ok();
    let t = Instant::now();
    s.write_all(
        format!("POST /login HTTP/1.1\r\n{host}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nname=a")
            .as_bytes(),
    )
    .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while t.elapsed() < Duration::from_secs_f64(REQUEST_TIMEOUT_S + 4.0) {
        let _ = s.write_all(b"a");
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "{text:?} after {:?}",
        t.elapsed()
    );
    assert!(
        t.elapsed() >= Duration::from_secs_f64(REQUEST_TIMEOUT_S - 0.5),
        "{:?}",
        t.elapsed()
    );

    // The server is fine afterwards.
    assert_eq!(status_from([127, 0, 0, 3], http, "/healthz"), Some(200));
}
