//! A real softphone calls over SIP/TLS with mandatory SRTP (baresip `srtp` module, SDES): the
//! call is answered, audio flows both ways (baresip hears the welcome prompt at its level, the
//! server records the caller's tone, a key reaches the menu), and a capture of the RTP on the
//! loopback shows no plaintext G.711 either way.

mod common;

use common::baresip::{self, Baresip, Options};
use common::capture::{self, Capture};
use common::server::{free_port, serial, ServerOptions, TestServer};
use std::path::Path;
use std::time::Duration;

const TONE_HZ: f64 = 1000.0;

fn write_tone(path: &Path, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * 8000.0) as usize {
        let t = i as f64 / 8000.0;
        w.write_sample((6000.0 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin()) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

fn samples(path: &Path) -> Vec<f64> {
    let mut r = hound::WavReader::open(path).unwrap();
    r.samples::<i16>()
        .map(|s| s.unwrap() as f64 / 32768.0)
        .collect()
}

fn db(x: &[f64]) -> f64 {
    let rms = (x.iter().map(|s| s * s).sum::<f64>() / x.len().max(1) as f64).sqrt();
    (20.0 * rms.max(1e-9).log10()).max(-60.0)
}

fn onset(x: &[f64]) -> Option<usize> {
    x.chunks(400).position(|w| db(w) > -40.0).map(|i| i * 400)
}

/// Shannon entropy of the bytes, in bits per byte (8 for uniformly random bytes).
fn entropy(bytes: &[u8]) -> f64 {
    let mut n = [0usize; 256];
    bytes.iter().for_each(|&b| n[b as usize] += 1);
    let total = bytes.len() as f64;
    n.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

#[test]
fn baresip_calls_over_tls_with_srtp_and_nothing_crosses_in_clear() {
    let _g = serial();
    assert!(
        baresip::available() && baresip::has_srtp(),
        "baresip with the srtp module is installed (scripts/setup.sh)"
    );
    let dir = tempfile::tempdir().unwrap();
    let cert = common::tls::self_signed(dir.path());
    let tls_port = free_port();
    let server = TestServer::start(ServerOptions {
        record: true,
        sip_extra: common::tls::sip_lines(tls_port, &cert),
        ..ServerOptions::default()
    });
    let mic = dir.path().join("mic.wav");
    // baresip hangs up when its microphone file ends: make it outlast the call.
    write_tone(&mic, 40.0);
    let mut phone = Baresip::start_with(
        &mic,
        &Options {
            tls_ca: Some(cert.cert.clone()),
            srtp: true,
            ..Options::default()
        },
    );
    let (lo, hi) = phone.rtp_ports;
    let pcap = dir.path().join("rtp.pcap");
    let cap = Capture::start(
        &format!(
            "udp portrange {lo}-{hi} and not udp port {}",
            server.sip_port
        ),
        &pcap,
    );

    phone.dial(&format!("sip:support@127.0.0.1:{tls_port};transport=tls"));
    phone.answered_then_one_reaches_billing(&server, "the call over TLS with SRTP");
    phone.hangup_and_quit(Duration::from_secs(5));
    let packets = cap.stop();
    assert!(
        server.wait_active(0, Duration::from_secs(5)),
        "baresip's hangup ends the call"
    );

    // The wire: RTP both ways, every payload indistinguishable from random bytes.
    let to_phone: Vec<_> = packets
        .iter()
        .filter(|p| (lo..=hi).contains(&p.dst_port))
        .filter_map(|p| capture::parse_rtp(&p.payload))
        .collect();
    let from_phone: Vec<_> = packets
        .iter()
        .filter(|p| (lo..=hi).contains(&p.src_port))
        .filter_map(|p| capture::parse_rtp(&p.payload))
        .filter(|r| r.pt == 0 || r.pt == 101)
        .collect();
    for (name, stream) in [
        ("server → baresip", &to_phone),
        ("baresip → server", &from_phone),
    ] {
        assert!(stream.len() >= 200, "{name}: {} RTP packets", stream.len());
        let audio: Vec<&capture::Rtp> = stream.iter().filter(|r| r.pt == 0).collect();
        assert!(
            audio.iter().all(|r| r.payload.len() == 160 + 10),
            "{name}: every PCMU packet carries 160 bytes and an 80-bit SRTP tag"
        );
        let quiet = audio
            .iter()
            .filter(|r| capture::is_quiet(&r.payload))
            .count();
        assert_eq!(quiet, 0, "{name}: no packet looks like µ-law silence");
        let bytes: Vec<u8> = audio
            .iter()
            .flat_map(|r| r.payload[..160].to_vec())
            .collect();
        let h = entropy(&bytes);
        assert!(
            h > 7.9,
            "{name}: payload bytes look random ({h:.3} bits/byte; G.711 speech or a tone is far lower)"
        );
    }

    // What baresip heard (decrypted and decoded): the welcome prompt at its level.
    let heard = samples(
        &phone
            .heard_wav()
            .unwrap_or_else(|| panic!("baresip recorded what it heard:\n{}", phone.output())),
    );
    let welcome = samples(&common::repo().join("prompts/en/welcome.wav"));
    let (w0, h0) = (
        onset(&welcome).unwrap(),
        onset(&heard).expect("the caller heard sound"),
    );
    let span = 5 * 8000;
    assert!(heard.len() >= h0 + span, "5 s heard after the first sound");
    let (lh, lw) = (db(&heard[h0..h0 + span]), db(&welcome[w0..w0 + span]));
    assert!(
        (lh - lw).abs() <= 6.0,
        "the caller hears the prompt at its level: {lh:.1} dBFS heard, {lw:.1} in welcome.wav"
    );

    // What the server heard (decrypted, recorded on the left): the caller's tone.
    let stored = server
        .wait_stored_calls(1, Duration::from_secs(5))
        .into_iter()
        .next()
        .expect("the call is stored");
    let path = stored["recording_path"]
        .as_str()
        .unwrap_or_else(|| panic!("a recording: {stored}"));
    let mut wav = hound::WavReader::open(path).unwrap();
    let both: Vec<i16> = wav.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = both.iter().step_by(2).copied().collect();
    let tone = common::rawsip::tone_fraction(&left, TONE_HZ);
    assert!(
        tone > 0.5,
        "the server decrypts the caller's {TONE_HZ} Hz tone: {tone:.2} of the caller channel"
    );
}

/// baresip as an agent's phone: registered over TLS (digest), SRTP mandatory, answering at
/// once. A plain UDP caller presses 0 on a queue that requires SRTP: the server rings baresip
/// on its registration connection with an SDES offer, the two hear each other's tones, and a
/// capture of baresip's RTP ports shows only SRTP (80-bit tags, random-looking payloads).
#[test]
fn baresip_as_an_agent_over_tls_takes_a_call_with_srtp_and_nothing_crosses_in_clear() {
    let _g = serial();
    assert!(
        baresip::available() && baresip::has_srtp(),
        "baresip with the srtp module is installed (scripts/setup.sh)"
    );
    const PASSWORD: &str = "linden-9-harbour";
    const CALLER_HZ: f64 = 600.0;
    let dir = tempfile::tempdir().unwrap();
    let cert = common::tls::self_signed(dir.path());
    let tls_port = free_port();
    let server = TestServer::start(ServerOptions {
        agents: vec!["alice".into()],
        users: vec![("alice".into(), "agent".into(), PASSWORD.into())],
        // baresip 1.0 answers MD5 challenges only.
        sip_extra: format!(
            "{}digest_algorithms = [\"MD5\"]\n",
            common::tls::sip_lines(tls_port, &cert)
        ),
        queue_extra: "require_srtp = true".into(),
        agent_rtp_timeout_seconds: 5.0,
        max_wait_seconds: 30.0,
        ..ServerOptions::default()
    });
    let mic = dir.path().join("agent.wav");
    write_tone(&mic, 60.0);
    let mut phone = Baresip::start_with(
        &mic,
        &Options {
            tls_ca: Some(cert.cert.clone()),
            srtp: true,
            register: Some((
                format!("sip:alice@127.0.0.1:{tls_port};transport=tls"),
                PASSWORD.into(),
            )),
            auto_answer: true,
        },
    );
    let ready = server.wait_for(Duration::from_secs(10), |s| {
        let (_, snap) = s.get("/api/agents");
        snap["agents"]
            .as_array()?
            .iter()
            .find(|a| a["name"] == "alice" && a["status"] == "ready")
            .map(|_| ())
    });
    assert!(
        ready.is_some(),
        "baresip registers over TLS:\n{}\nserver log:\n{}",
        phone.output(),
        server.log()
    );
    let (lo, hi) = phone.rtp_ports;
    let pcap = dir.path().join("agent-rtp.pcap");
    let cap = Capture::start(&format!("udp portrange {lo}-{hi}"), &pcap);

    let mut caller = common::rawsip::RawCall::establish(server.sip_addr(), "support");
    caller.media.send_silence(0.5);
    caller.dtmf('0');
    let bridged = server.wait_for(Duration::from_secs(20), |s| {
        s.live_calls()
            .into_iter()
            .find(|c| c["state"] == "bridged")
            .map(|_| ())
    });
    assert!(
        bridged.is_some(),
        "baresip answers the call over TLS:\n{}\nserver log:\n{}",
        phone.output(),
        server.log()
    );
    let listen = caller.media.sock.try_clone().unwrap();
    let heard = std::thread::scope(|s| {
        let media = &mut caller.media;
        s.spawn(move || media.send_audio(&common::rawsip::tone(CALLER_HZ, 3.0, 8000.0)));
        let mut heard = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        let mut buf = [0u8; 2048];
        while std::time::Instant::now() < deadline {
            listen
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            if let Ok((n, from)) = listen.recv_from(&mut buf) {
                if let Some(p) = common::rawsip::Rtp::parse(&buf[..n], from) {
                    heard.push(p);
                }
            }
        }
        heard
    });
    let tone_packets = heard
        .iter()
        .filter(|p| p.pt == 0)
        .map(|p| {
            let pcm: Vec<i16> = p
                .payload
                .iter()
                .map(|b| common::rawsip::ulaw_to_linear(*b))
                .collect();
            common::rawsip::tone_fraction(&pcm, TONE_HZ)
        })
        .filter(|f| *f > 0.8)
        .count();
    assert!(
        tone_packets >= 50,
        "the caller hears baresip's {TONE_HZ} Hz tone through the bridge: {tone_packets} packets"
    );
    assert_eq!(caller.bye().map(|r| r.code()), Some(200));
    phone.hangup_and_quit(Duration::from_secs(5));
    let packets = cap.stop();

    for (name, to_phone) in [("server → baresip", true), ("baresip → server", false)] {
        let stream: Vec<capture::Rtp> = packets
            .iter()
            .filter(|p| {
                let port = if to_phone { p.dst_port } else { p.src_port };
                (lo..=hi).contains(&port)
            })
            .filter_map(|p| capture::parse_rtp(&p.payload))
            .filter(|r| r.pt == 0)
            .collect();
        assert!(stream.len() >= 100, "{name}: {} PCMU packets", stream.len());
        assert!(
            stream.iter().all(|r| r.payload.len() == 160 + 10),
            "{name}: every packet carries 160 bytes and an 80-bit SRTP tag"
        );
        let bytes: Vec<u8> = stream
            .iter()
            .flat_map(|r| r.payload[..160].to_vec())
            .collect();
        let h = entropy(&bytes);
        assert!(
            h > 7.9,
            "{name}: payloads look random ({h:.3} bits/byte), no G.711 in clear"
        );
    }

    // What baresip heard, decrypted and decoded: the caller's tone.
    let wav = phone
        .heard_wav()
        .unwrap_or_else(|| panic!("baresip recorded what it heard:\n{}", phone.output()));
    let pcm: Vec<i16> = hound::WavReader::open(wav)
        .unwrap()
        .samples::<i16>()
        .map(|s| s.unwrap())
        .collect();
    let toned = pcm
        .chunks(160)
        .filter(|c| common::rawsip::tone_fraction(c, CALLER_HZ) > 0.8)
        .count();
    assert!(
        toned >= 50,
        "baresip hears the caller's tone: {toned} frames"
    );
    let stored = server
        .wait_stored_calls(1, Duration::from_secs(10))
        .into_iter()
        .next()
        .expect("the call is stored");
    assert_eq!(stored["agent"], "alice", "{stored}");
}
