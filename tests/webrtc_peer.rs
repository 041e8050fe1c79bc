//! The WebRTC media path with a real browser: headless Chromium talks to
//! `humanline::webrtc::MediaPeer` running in this test process. A tiny axum app (in the test,
//! not in the product) serves the page and carries the SDP; Chromium's fake microphone plays an
//! espeak-ng clip, and the server plays the welcome prompt.
//!
//! Both directions are checked on what actually arrived: the server decodes the browser's PCMU
//! and measures its level; the browser's `getStats()` reports the audio level and energy of what
//! it received from the server, and the codec it negotiated (PCMU).
//!
//! Needs chromium, node and tests/browser/node_modules: `scripts/setup.sh`.

mod common;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use humanline::media::{dbfs, linear_to_ulaw, ulaw_to_linear};
use humanline::webrtc::{MediaPeer, PeerConfig, PeerEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Mutex};

const PAGE: &str = include_str!("browser/webrtc_peer.html");

/// A negotiated peer, how long `offer()`/`answer()` took (candidate gathering included), and
/// when the last SDP was applied.
type Ready = (MediaPeer, Duration, Instant);

/// The signalling app's state: the peer waiting for the browser's answer (with how long making
/// the offer took), and where negotiated peers go.
#[derive(Clone)]
struct Signal {
    cfg: PeerConfig,
    pending: Arc<Mutex<Option<(MediaPeer, Duration)>>>,
    ready: mpsc::UnboundedSender<Ready>,
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn server_offer(State(s): State<Signal>) -> Result<String, (StatusCode, String)> {
    let started = Instant::now();
    let (peer, sdp) = MediaPeer::offer(&s.cfg).await.map_err(bad)?;
    *s.pending.lock().await = Some((peer, started.elapsed()));
    Ok(sdp)
}

async fn browser_answer(
    State(s): State<Signal>,
    body: String,
) -> Result<&'static str, (StatusCode, String)> {
    let (peer, setup) = s.pending.lock().await.take().ok_or((
        StatusCode::CONFLICT,
        "no offer is waiting for an answer".to_string(),
    ))?;
    peer.accept_answer(&body).await.map_err(bad)?;
    let _ = s.ready.send((peer, setup, Instant::now()));
    Ok("ok")
}

async fn browser_offer(
    State(s): State<Signal>,
    body: String,
) -> Result<String, (StatusCode, String)> {
    let started = Instant::now();
    let (peer, sdp) = MediaPeer::answer(&s.cfg, &body).await.map_err(bad)?;
    let _ = s.ready.send((peer, started.elapsed(), Instant::now()));
    Ok(sdp)
}

fn bad(e: humanline::webrtc::WebRtcError) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, e.to_string())
}

/// The welcome prompt as 20 ms PCMU frames.
fn welcome_frames() -> Vec<Vec<u8>> {
    let path = common::repo().join("prompts/en/welcome.wav");
    let mut r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((r.spec().sample_rate, r.spec().channels), (8000, 1));
    let pcm: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
    pcm.chunks(160)
        .map(|c| {
            let mut f: Vec<u8> = c.iter().map(|s| linear_to_ulaw(*s)).collect();
            f.resize(160, 0xFF);
            f
        })
        .collect()
}

/// What the server side saw of one browser leg.
#[derive(Debug, Default)]
struct ServerSide {
    /// `offer()` or `answer()`: building the connection and gathering candidates.
    setup: Duration,
    /// From the last SDP applied (the browser's answer, or our answer sent) to Connected: ICE
    /// checks and the DTLS handshake (the browser applies our answer in between).
    sdp_to_connected: Option<Duration>,
    frames_in: usize,
    voiced_frames_in: usize,
    loudest_dbfs: f64,
    frames_out: usize,
    digits: String,
    closed: Option<String>,
}

/// Serves the page, runs Chromium on it in `mode`, and drives the peer the browser negotiates:
/// one task, 20 ms tick sending the prompt, events read in the same `select!` — the shape of a
/// call task. Returns the browser's report and the server's view.
async fn browser_leg(mode: &str) -> (serde_json::Value, ServerSide) {
    common::browser::require_browser();
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let wav = common::browser::microphone_wav(
        dir.path(),
        "caller",
        "Hello, I would like to talk to a person about my order, please.",
    );

    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let signal = Signal {
        cfg: PeerConfig::default(),
        pending: Arc::default(),
        ready: ready_tx,
    };
    let app = Router::new()
        .route("/", get(page))
        .route("/offer", post(server_offer))
        .route("/answer", post(browser_answer))
        .route("/browser-offer", post(browser_offer))
        .with_state(signal);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = tokio::spawn(common::browser::run_script_async(
        "run_page.js",
        vec![
            (
                "PAGE_URL",
                format!("http://{http}/?mode={mode}&wait_ms=10000"),
            ),
            ("AUDIO_WAV", wav.display().to_string()),
            ("SCREENSHOT", format!("webrtc_peer-{mode}")),
            ("TIMEOUT_MS", "40000".to_string()),
        ],
        Duration::from_secs(60),
    ));

    let (mut peer, setup, sdp_done) =
        tokio::time::timeout(Duration::from_secs(30), ready_rx.recv())
            .await
            .expect("the browser negotiated within 30 s")
            .expect("signalling app alive");

    let frames = welcome_frames();
    let mut side = ServerSide {
        setup,
        loudest_dbfs: f64::NEG_INFINITY,
        ..Default::default()
    };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut pcm = [0i16; 480];
    let mut browser = browser;
    let mut report = None;
    let deadline = tokio::time::sleep(Duration::from_secs(45));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            ev = peer.next_event(), if side.closed.is_none() => match ev {
                Some(PeerEvent::Connected) => side.sdp_to_connected = Some(sdp_done.elapsed()),
                Some(PeerEvent::Audio(payload)) => {
                    let n = payload.len().min(pcm.len());
                    for (o, b) in pcm.iter_mut().zip(&payload[..n]) {
                        *o = ulaw_to_linear(*b);
                    }
                    let level = dbfs(&pcm[..n]);
                    side.frames_in += 1;
                    side.loudest_dbfs = side.loudest_dbfs.max(level);
                    if level > -40.0 {
                        side.voiced_frames_in += 1;
                    }
                }
                Some(PeerEvent::Digit(d)) => side.digits.push(d),
                Some(PeerEvent::Closed { why }) => {
                    side.closed = Some(why);
                    if report.is_some() { break; }
                }
                None => {
                    side.closed = Some("no more events".into());
                    if report.is_some() { break; }
                }
            },
            _ = tick.tick(), if side.sdp_to_connected.is_some() && side.closed.is_none() => {
                let frame = &frames[side.frames_out % frames.len()];
                if peer.send_pcmu(frame).await.is_ok() {
                    side.frames_out += 1;
                }
            }
            r = &mut browser, if report.is_none() => {
                report = Some(r.expect("browser task"));
                if side.closed.is_some() { break; }
                // The page closed its RTCPeerConnection: the server must see the leg end.
                deadline.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(12));
            }
            _ = &mut deadline => break,
        }
    }
    peer.close().await;
    let report = match report {
        Some(r) => r,
        None => browser.await.expect("browser task"),
    };
    (report, side)
}

fn result(report: &serde_json::Value) -> &serde_json::Value {
    let r = &report["result"];
    assert!(
        r.get("error").is_none(),
        "the page failed: {}\nlogs: {}",
        r["error"],
        report["logs"]
    );
    r
}

/// Checks both directions and the end of the leg; returns the browser's result for more checks.
fn assert_audio_both_ways<'a>(
    report: &'a serde_json::Value,
    side: &ServerSide,
) -> &'a serde_json::Value {
    let r = result(report);
    eprintln!(
        "browser: connected {} ms after page start ({} ms after signalling began); \
         in: {} packets, max level {}, energy {}; out: {} packets; screenshot {}",
        r["connectedMs"],
        r["signalToConnectedMs"],
        r["inbound"]["packetsReceived"],
        r["maxAudioLevel"],
        r["inbound"]["totalAudioEnergy"],
        r["outbound"]["packetsSent"],
        report["screenshot"]
    );
    eprintln!("server: {side:?}");

    // Browser → server: PCMU frames carrying the spoken clip, not silence.
    assert!(
        side.sdp_to_connected.is_some(),
        "the server never saw Connected"
    );
    assert!(
        side.frames_in >= 100,
        "the server got only {} audio frames from the browser",
        side.frames_in
    );
    assert!(
        side.voiced_frames_in >= 25,
        "the browser's audio is silence at the server: {} of {} frames above -40 dBFS (loudest {:.1})",
        side.voiced_frames_in,
        side.frames_in,
        side.loudest_dbfs
    );

    // Server → browser: the prompt arrived, decoded as PCMU, and was not silent.
    assert_eq!(r["inboundCodec"]["mimeType"], "audio/PCMU", "{r}");
    assert_eq!(r["outboundCodec"]["mimeType"], "audio/PCMU", "{r}");
    assert!(
        r["inbound"]["packetsReceived"].as_u64().unwrap_or(0) >= 100,
        "the browser received too few packets: {}",
        r["inbound"]
    );
    let energy = r["inbound"]["totalAudioEnergy"].as_f64().unwrap_or(0.0);
    let level = r["maxAudioLevel"].as_f64().unwrap_or(0.0);
    assert!(
        energy > 0.0 && level > 0.01,
        "the browser heard silence: energy {energy}, max level {level}"
    );

    // Keys pressed in the browser arrive as digits (RFC 4733 telephone-event).
    assert_eq!(
        r["dtmfSent"], true,
        "Chromium could not send DTMF: telephone-event not negotiated"
    );
    assert_eq!(
        r["digits"].as_str(),
        Some(side.digits.as_str()),
        "digits at the server"
    );

    // The page closed its connection: the leg ends as Closed on the server.
    assert!(
        side.closed.is_some(),
        "the browser closed its RTCPeerConnection but the server never reported Closed"
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_offers_pcmu_and_audio_flows_both_ways() {
    let (report, side) = browser_leg("server-offers").await;
    let r = assert_audio_both_ways(&report, &side);
    let offer = r["offerSdp"].as_str().expect("offer SDP");
    assert!(
        offer.contains("m=audio") && offer.contains("a=rtpmap:0 PCMU/8000"),
        "{offer}"
    );
    assert!(offer.contains("telephone-event/8000"), "{offer}");
    assert!(
        offer.contains("a=candidate:") && offer.contains("127.0.0.1"),
        "the offer carries its host candidate (no trickle): {offer}"
    );
    assert!(
        !offer.contains("opus"),
        "the server offers PCMU only: {offer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_offers_opus_first_and_the_server_picks_pcmu() {
    let (report, side) = browser_leg("browser-offers").await;
    let r = assert_audio_both_ways(&report, &side);
    let offer = r["offerSdp"].as_str().expect("offer SDP");
    let pts = humanline::webrtc::offered_payload_types(offer);
    assert!(
        offer.contains("opus/48000") && pts.contains(&0) && pts.first() != Some(&0),
        "Chromium offers opus before PCMU: {pts:?}"
    );
    let answer = r["answerSdp"].as_str().expect("answer SDP");
    assert_eq!(
        humanline::webrtc::offered_payload_types(answer).first(),
        Some(&0),
        "{answer}"
    );
    assert!(!answer.contains("opus"), "{answer}");
    assert!(
        humanline::webrtc::telephone_event_pt(answer).is_some(),
        "the answer accepts telephone-event/8000: {answer}"
    );
}
