//! Real callers (sipp) on the real server over UDP and TCP: the call is answered, the caller hears
//! the welcome prompt as properly paced PCMU, keys pressed by RFC 4733 move through the menu,
//! and every call ends up stored and off the live list.
//!
//! Needs sipp (`sip-tester`) and dumpcap (`tshark`), and root to capture on `lo`:
//! `scripts/setup.sh` installs them. Run alone with `cargo test --test sip_calls`.

mod common;

use common::capture::{self, pacing, rtp_to, Capture};
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, dtmf, pause, Offer, Ports, Transport};
use std::net::UdpSocket;
use std::time::Duration;

/// The 200 OK's SDP must take PCMU and echo telephone-event 101 when the caller offered it.
fn assert_answer_sdp(caller: &sipp::SippResult, expect_telephone_event: bool) {
    let ok = caller
        .first_received("SIP/2.0 200")
        .unwrap_or_else(|| panic!("no 200 OK to the INVITE\n{}", caller.report()));
    let m_line = ok
        .lines()
        .find(|l| l.starts_with("m=audio"))
        .unwrap_or_else(|| panic!("200 OK without an m=audio line:\n{ok}"));
    let formats: Vec<&str> = m_line.split_whitespace().skip(3).collect();
    assert_eq!(
        formats.first(),
        Some(&"0"),
        "the answer must prefer PCMU: {m_line}"
    );
    assert_eq!(
        ok.contains("telephone-event/8000"),
        expect_telephone_event,
        "telephone-event in the answer only if offered:\n{ok}"
    );
    if expect_telephone_event {
        assert!(
            formats.contains(&"101"),
            "the offer's telephone-event payload type (101) must be echoed: {m_line}"
        );
    }
}

/// One call that listens to the welcome prompt for 3 s and hangs up; checks the RTP the caller
/// got, the SIP answer and the stored call.
fn caller_hears_welcome(transport: Transport) {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default());
    let work = tempfile::tempdir().unwrap();
    let ports = Ports::free();
    let cap = Capture::start(
        &format!("udp dst port {}", ports.media),
        &work.path().join("caller.pcap"),
    );
    let run = sipp::caller(
        work.path(),
        ports,
        server.sip_addr(),
        transport,
        Offer::PcmuWithTelephoneEvent,
        &[pause(3000)],
    );
    let caller = run.wait(Duration::from_secs(20));
    let packets = cap.stop();
    assert!(caller.passed(), "{}", caller.report());
    assert_answer_sdp(&caller, true);

    let rtp = rtp_to(&packets, ports.media);
    assert!(
        !rtp.is_empty(),
        "no RTP reached the caller's port {}",
        ports.media
    );
    // The line may send a few packets of silence before the welcome's first frame; the prompt
    // starts with the marker bit (RFC 3551 §4.1), at once.
    let start = rtp
        .iter()
        .position(|(_, p)| p.marker)
        .expect("the prompt's first packet carries the marker bit");
    let waited = rtp[start].0 - rtp[0].0;
    assert!(
        waited < 0.2,
        "the welcome began {waited:.3} s after the first packet"
    );
    let rtp = &rtp[start..];
    let t0 = rtp[0].0;
    let first: Vec<_> = rtp.iter().filter(|(t, _)| *t - t0 < 2.5).cloned().collect();
    assert!(
        first.len() >= 100,
        "{} RTP packets in the first 2.5 s; a 20 ms stream gives 125",
        first.len()
    );
    for (_, p) in &first {
        assert_eq!(p.pt, 0, "payload type must be PCMU (0): {p:?}");
        assert_eq!(p.payload.len(), 160, "20 ms of PCMU is 160 bytes");
    }
    assert!(
        first[0].1.marker,
        "the prompt's first packet carries the marker bit"
    );
    for w in first.windows(2) {
        let (a, b) = (&w[0].1, &w[1].1);
        assert_eq!(a.ssrc, b.ssrc, "one SSRC for the prompt stream");
        assert_eq!(
            b.seq,
            a.seq.wrapping_add(1),
            "sequence numbers must be consecutive (seq {} then {})",
            a.seq,
            b.seq
        );
        assert_eq!(
            b.ts,
            a.ts.wrapping_add(160),
            "timestamps advance by 160 per packet (seq {} → {})",
            a.seq,
            b.seq
        );
    }
    let pace = pacing(&first);
    eprintln!("{transport:?}: welcome prompt RTP {pace:?}");
    assert!(
        (17.0..=23.0).contains(&pace.median_gap_ms) && pace.p95_gap_ms < 30.0,
        "packets must be paced every 20 ms: {pace:?}"
    );
    assert!(
        first.iter().any(|(_, p)| !capture::is_quiet(&p.payload)),
        "the welcome prompt must carry sound, not only silence"
    );

    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("the call is stored after BYE");
    assert_eq!(call["outcome"], "hangup", "{call:#}");
    assert_eq!(call["path"][0], "welcome", "{call:#}");
    assert!(
        server.wait_active(0, Duration::from_secs(5)),
        "the call must leave the live list after BYE: {:?}",
        server.live_calls()
    );
}

#[test]
fn caller_hears_welcome_prompt_as_paced_pcmu_rtp() {
    caller_hears_welcome(Transport::Udp);
}

#[test]
fn caller_over_tcp_hears_welcome_prompt_and_hangs_up_cleanly() {
    caller_hears_welcome(Transport::Tcp);
}

/// Waits through the welcome prompt (7.0 s) into the menu, presses 1 by RFC 4733 and stays on.
fn pressing_1_goes_to_billing(transport: Transport) {
    let _serial = serial();
    let server = TestServer::start(ServerOptions::default());
    let work = tempfile::tempdir().unwrap();
    let run = sipp::caller(
        work.path(),
        Ports::free(),
        server.sip_addr(),
        transport,
        Offer::PcmuWithTelephoneEvent,
        &[pause(7500), dtmf('1'), pause(2500)],
    );
    // While the caller is still on the line, the live call shows where it is.
    let live = server.wait_for(Duration::from_secs(12), |s| {
        s.live_calls().into_iter().find(|c| c["node"] == "billing")
    });
    let caller = run.wait(Duration::from_secs(25));
    assert!(caller.passed(), "{}", caller.report());
    let live = live.unwrap_or_else(|| {
        panic!(
            "the live call never reached node billing after pressing 1; live calls now: {:?}",
            server.live_calls()
        )
    });
    assert_eq!(live["state"], "ivr", "{live:#}");
    assert!(
        live["dtmf"].as_str().is_some_and(|d| d.contains('1')),
        "{live:#}"
    );

    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("the call is stored after BYE");
    let path: Vec<&str> = call["path"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        &path[..path.len().min(3)],
        ["welcome", "menu", "billing"],
        "{call:#}"
    );
    assert!(
        call["dtmf"].as_str().is_some_and(|d| d.contains('1')),
        "the stored call records the key: {call:#}"
    );
    assert_eq!(call["outcome"], "hangup", "{call:#}");
    assert!(server.wait_active(0, Duration::from_secs(5)));
}

#[test]
fn pressing_1_in_the_menu_goes_to_billing() {
    pressing_1_goes_to_billing(Transport::Udp);
}

#[test]
fn pressing_1_in_the_menu_goes_to_billing_over_tcp() {
    pressing_1_goes_to_billing(Transport::Tcp);
}

/// The capture helper the RTP checks rely on: what is sent on lo comes back with its ports,
/// payload and a plausible time.
#[test]
fn loopback_capture_reads_back_udp_datagrams() {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (rx_port, tx_port) = (
        rx.local_addr().unwrap().port(),
        tx.local_addr().unwrap().port(),
    );
    let cap = Capture::start(
        &format!("udp dst port {rx_port}"),
        &work.path().join("t.pcap"),
    );
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // An RTP-shaped datagram (marker, PT 0, seq 7, ts 320) and four plain ones.
    let mut rtp = vec![0x80, 0x80, 0, 7, 0, 0, 1, 0x40, 0xde, 0xad, 0xbe, 0xef];
    rtp.extend([0xd5; 160]);
    tx.send_to(&rtp, rx.local_addr().unwrap()).unwrap();
    for i in 0..4u8 {
        tx.send_to(&[i; 33], rx.local_addr().unwrap()).unwrap();
    }
    // A datagram to another port must not be caught by the filter.
    tx.send_to(b"elsewhere", tx.local_addr().unwrap()).unwrap();
    let mut buf = [0u8; 512];
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    for _ in 0..5 {
        rx.recv_from(&mut buf).unwrap();
    }
    let packets = cap.stop();
    assert_eq!(packets.len(), 5, "{packets:?}");
    assert!(packets
        .iter()
        .all(|p| p.src_port == tx_port && p.dst_port == rx_port));
    assert!(packets
        .iter()
        .all(|p| p.time >= before - 1.0 && p.time < before + 10.0));
    let r = capture::parse_rtp(&packets[0].payload).expect("the first one parses as RTP");
    assert!(r.marker);
    assert_eq!((r.pt, r.seq, r.ts, r.ssrc), (0, 7, 320, 0xdead_beef));
    assert_eq!(r.payload, vec![0xd5; 160]);
    assert_eq!(packets[3].payload, vec![2u8; 33]);
}
