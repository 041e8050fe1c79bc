//! A flood from one source: past its burst, a source's SIP messages are dropped unread at the
//! configured rate, while another source is served as usual and the flooder is served again
//! once it slows down.

mod common;

use common::rawsip::options;
use common::server::{serial, ServerOptions, TestServer};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Sends `n` OPTIONS from `sock` quickly (a short pause every 50, so the kernel's socket
/// buffer does not drop them before the server reads them), then counts the answers that
/// arrive within a second of the last one sent.
fn blast(sock: &UdpSocket, server: SocketAddr, n: usize) -> (usize, Duration) {
    let local = sock.local_addr().unwrap();
    let started = Instant::now();
    for i in 0..n {
        let _ = sock.send_to(options(server, local, "UDP").as_bytes(), server);
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let sent_in = started.elapsed();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut answers = 0;
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        if let Ok((len, _)) = sock.recv_from(&mut buf) {
            if buf[..len].starts_with(b"SIP/2.0 200") {
                answers += 1;
            }
        }
    }
    (answers, sent_in)
}

#[test]
fn a_flooding_source_is_limited_and_others_are_served() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        sip_extra: "flood_messages_per_second = 50.0\nflood_burst = 100.0".into(),
        ..Default::default()
    });
    let addr = server.sip_addr();
    let flooder = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (answered, took) = blast(&flooder, addr, 2000);
    let allowed = 100.0 + 50.0 * (took.as_secs_f64() + 0.2);
    assert!(
        answered >= 100 && (answered as f64) <= allowed + 5.0,
        "{answered} of 2000 answered in {took:?} (burst 100, 50/s)"
    );
    let metrics = server.metrics();
    let dropped: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("humanline_sip_flood_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the counter is exported");
    // Most of the flood was read and dropped by the limiter (the kernel may lose a few).
    assert!(dropped >= 1000, "dropped {dropped}, answered {answered}");

    // Another address is served at once.
    let other = UdpSocket::bind("127.0.0.2:0").expect("127.0.0.2 is loopback on Linux");
    assert_eq!(blast(&other, addr, 5).0, 5, "another source is not limited");

    // The flooder, slowed down, is served again.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        blast(&flooder, addr, 3).0,
        3,
        "a quiet source gets answers again"
    );
}
