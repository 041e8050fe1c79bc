//! The agent console and the supervisor board against the real server: real SIP calls make
//! the data (a caller who pressed 0 and left a message, one who reached an agent, one still in
//! the IVR), then headless Chromium signs in as an agent and as a supervisor, uses the pages
//! and takes screenshots (`target/screenshots/agent_console.png`, `supervisor_board.png`).
//! Plain HTTP checks pin down who may open what and that the console's socket refuses other
//! sites.

mod common;

use common::browser;
use common::rawsip::{tone, AgentAnswer, FakeAgent, RawCall};
use common::server::{serial, ServerOptions, TestServer};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
const AGENT: (&str, &str) = ("alice", "alice-password-1");
const SUPERVISOR: (&str, &str) = ("bob", "bob-password-1");

/// The agent and the supervisor, and `more`.
fn users(more: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    [
        (AGENT.0, "agent", AGENT.1),
        (SUPERVISOR.0, "supervisor", SUPERVISOR.1),
    ]
    .iter()
    .chain(more)
    .map(|(n, r, p)| (n.to_string(), r.to_string(), p.to_string()))
    .collect()
}

/// Signs in through the login form; returns the `Cookie` header value.
fn login(server: &TestServer, (name, password): (&str, &str)) -> String {
    let r = server.http(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("name={name}&password={password}&next="),
    );
    assert_eq!(r.status, 303, "login as {name}: {}", r.text());
    let set = r
        .header("set-cookie")
        .unwrap_or_else(|| panic!("login sets a cookie: {:?}", r.headers));
    set.split(';').next().unwrap_or("").to_string()
}

/// Status of a WebSocket handshake on `/ws/agent` with `extra` headers.
fn ws_handshake(server: &TestServer, extra: &[(&str, &str)]) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", server.http_port)).expect("connect");
    s.set_read_timeout(Some(3 * SEC)).expect("timeout");
    let mut req = format!(
        "GET /ws/agent HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        server.http_port
    );
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send handshake");
    // A 101 keeps the socket open, so this reads the status line only.
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn live_state(server: &TestServer, sip_call_id: &str) -> Option<String> {
    server
        .live_calls()
        .into_iter()
        .find(|c| c["sip_call_id"].as_str() == Some(sip_call_id))
        .and_then(|c| c["state"].as_str().map(str::to_string))
}

fn wait_state(server: &TestServer, call: &RawCall, state: &str, timeout: Duration) {
    let ok = server.wait_for(timeout, |s| {
        (live_state(s, &call.call_id).as_deref() == Some(state)).then_some(())
    });
    assert!(
        ok.is_some(),
        "call never reached {state:?} within {timeout:?}; live: {:?}",
        server.live_calls()
    );
}

fn stored(server: &TestServer, call: &RawCall) -> Value {
    server
        .wait_for(5 * SEC, |s| {
            s.wait_stored_calls(1, Duration::ZERO)
                .into_iter()
                .find(|c| c["sip_call_id"].as_str() == Some(call.call_id.as_str()))
        })
        .unwrap_or_else(|| panic!("call {} was not stored", call.call_id))
}

/// A caller of the `console` line presses 0 while nobody answers its queue (alice is not
/// signed in yet) and leaves a 2 s message there.
fn caller_leaves_a_message(server: &TestServer) -> Value {
    let mut call = RawCall::establish(server.sip_addr(), "console");
    call.media.send_silence(0.3);
    call.dtmf('0');
    wait_state(server, &call, "message", 20 * SEC);
    assert!(
        call.media.wait_beep_end(15, 20 * SEC),
        "the caller hears the beep"
    );
    call.media.send_audio(&tone(440.0, 2.0, 8000.0));
    assert_eq!(call.bye().expect("BYE answered").code(), 200);
    stored(server, &call)
}

/// The demo plan as the `console` line: the same menus, escalating to the `console` queue
/// (alice's).
fn console_plan() -> String {
    let demo = std::fs::read_to_string("dialplans/support.toml").expect("the demo plan");
    let plan = demo
        .replacen("name = \"support\"", "name = \"console\"", 1)
        .replacen("queue = \"support\"", "queue = \"console\"", 1);
    assert_ne!(plan, demo, "the demo plan names its queue");
    plan
}

/// Waits for the browser script's signal file `name` (or the script's end).
fn wait_signal(dir: &std::path::Path, name: &str, script: &std::thread::JoinHandle<Value>) {
    let file = dir.join(name);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !file.exists() && !script.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A caller presses 0 and talks to the agent's phone for a moment.
fn caller_reaches_an_agent(server: &TestServer, agent: &mut FakeAgent) -> Value {
    let mut call = RawCall::establish(server.sip_addr(), "support");
    call.media.send_silence(0.3);
    call.dtmf('0');
    agent
        .take_invite(AgentAnswer::Answer, 10 * SEC)
        .expect("pressing 0 rings the agent's phone");
    agent.wait_request("ACK", 3 * SEC);
    wait_state(server, &call, "bridged", 5 * SEC);
    call.media.send_silence(0.5);
    assert_eq!(call.bye().expect("BYE answered").code(), 200);
    if let Some(bye) = agent.wait_request("BYE", 3 * SEC) {
        agent.reply(&bye, 200, "OK");
    }
    stored(server, &call)
}

#[test]
fn agent_console_and_supervisor_board_in_a_browser() {
    let _g = serial();
    browser::require_browser();
    let mut phone = FakeAgent::bind();
    // The support queue rings a SIP phone; alice answers the `console` line's queue from her
    // browser (and reads only its messages and the calls offered to her).
    let server = TestServer::start(ServerOptions {
        agents: vec![phone.uri()],
        ring_timeout_seconds: 2.0,
        extra_toml: format!(
            "[queues.console]\nagents = [\"{}\"]\nring_timeout_seconds = 300.0\n",
            AGENT.0
        ),
        plans: vec![("console".into(), console_plan())],
        users: users(&[]),
        ..Default::default()
    });

    let message = caller_leaves_a_message(&server);
    assert!(message["message_path"].is_string(), "{message}");
    let talked = caller_reaches_an_agent(&server, &mut phone);
    assert!(
        talked["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["kind"] == "bridged")),
        "{talked}"
    );

    let base = format!("http://127.0.0.1:{}", server.http_port);
    let signal = tempfile::tempdir().expect("signal dir");
    let notes = "Wants a refund for March; promised a call back.";
    let script = {
        let env = vec![
            ("BASE", base),
            ("AGENT_NAME", AGENT.0.to_string()),
            ("AGENT_PASSWORD", AGENT.1.to_string()),
            ("SUPERVISOR_NAME", SUPERVISOR.0.to_string()),
            ("SUPERVISOR_PASSWORD", SUPERVISOR.1.to_string()),
            ("SIGNAL_DIR", signal.path().to_string_lossy().to_string()),
            ("NOTES", notes.to_string()),
        ];
        std::thread::spawn(move || {
            browser::run_script("console_pages.js", &env, Duration::from_secs(150))
        })
    };

    // Once alice is Ready: a caller in the IVR, and one who pressed 0 on the console line and
    // is offered to alice (her console rings), both kept alive with RTP.
    wait_signal(signal.path(), "ready", &script);
    let in_ivr = RawCall::establish(server.sip_addr(), "support");
    let mut queued = RawCall::establish(server.sip_addr(), "console");
    queued.media.send_silence(0.3);
    queued.dtmf('0');
    let queued_id = queued.call_id.clone();
    let keep = |mut call: RawCall| {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let t = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                call.media.send_silence(0.5);
            }
            let _ = call.bye();
        });
        (stop, t)
    };
    let (stop_ivr, ivr_thread) = keep(in_ivr);
    let (stop_queued, queued_thread) = keep(queued);
    let queued_live = server
        .wait_for(20 * SEC, |s| {
            s.live_calls().into_iter().find(|c| {
                c["sip_call_id"] == queued_id.as_str()
                    && c["pop"].is_object()
                    && c["agent"] == AGENT.0
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "the queued call is offered to alice with a screen pop: {:?}",
                server.live_calls()
            )
        });
    let queued_call_id = queued_live["id"]
        .as_str()
        .expect("live call id")
        .to_string();
    std::fs::write(signal.path().join("queued"), &queued_call_id).expect("signal the script");
    // Once the agent has typed notes on the ringing call, the caller hangs up.
    wait_signal(signal.path(), "pop_shown", &script);
    stop_queued.store(true, Ordering::Relaxed);
    let _ = queued_thread.join();
    let r = script
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    stop_ivr.store(true, Ordering::Relaxed);
    let _ = ivr_thread.join();
    eprintln!(
        "browser saw: {}",
        serde_json::to_string_pretty(&r).unwrap_or_default()
    );
    assert_eq!(
        std::fs::read_to_string(signal.path().join("pop_shown")).unwrap_or_default(),
        queued_call_id,
        "the console showed the waiting caller's pop"
    );
    assert_eq!(
        r["live_seen"], 1,
        "of the live calls alice sees only the one offered to her (not the caller in the IVR)"
    );

    // The agent console.
    for (sel, shown) in r["agent_visible"].as_object().expect("agent_visible") {
        assert_eq!(shown, true, "{sel} is visible on /agent");
    }
    assert!(
        r["agent_header"].as_str().unwrap_or("").contains(AGENT.0),
        "the header names the agent: {}",
        r["agent_header"]
    );
    assert_eq!(r["ready_pressed"], "true", "Ready shows as pressed");
    let statuses: Vec<&str> = r["status_events"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        statuses.contains(&"ready"),
        "the hub confirmed ready: {statuses:?}"
    );
    let messages = r["messages"].as_array().expect("messages listed");
    assert_eq!(
        messages[0]["call_id"], message["id"],
        "the message call is listed"
    );
    assert!(
        messages[0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("tester"),
        "the message names the caller: {}",
        messages[0]["text"]
    );
    let audio = &r["message_audio"];
    assert_eq!(audio["status"], 200, "the message plays: {audio}");
    assert_eq!(audio["riff"], "RIFF", "the message is a WAV: {audio}");
    assert!(
        audio["bytes"].as_u64().unwrap_or(0) > 16_000,
        "about 2 s of audio: {audio}"
    );
    assert!(
        r["done_text"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("Done by {}", AGENT.0)),
        "{}",
        r["done_text"]
    );
    let (_, listed) = server.get("/api/messages");
    let row = listed["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == message["id"]))
        .unwrap_or_else(|| panic!("the message is listed: {listed}"));
    assert_eq!(
        row["done_by"], AGENT.0,
        "marked done in the store: {listed}"
    );

    // The console's protocol: every bad frame gets an error, the socket stays open.
    let replies = r["protocol"].as_array().expect("protocol replies");
    assert_eq!(replies[0]["type"], "hello", "{replies:?}");
    assert_eq!(replies[0]["queues"], serde_json::json!(["console"]));
    let errors: Vec<&str> = replies
        .iter()
        .filter(|m| m["type"] == "error")
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(errors.len(), 5, "one error per bad frame: {replies:?}");
    assert!(errors[0].contains("not a JSON object"), "{errors:?}");
    assert!(
        errors[1].contains("unknown message type `dial`"),
        "{errors:?}"
    );
    assert!(errors[2].contains("`busy` cannot be chosen"), "{errors:?}");
    assert!(errors[3].contains("no-such-call"), "{errors:?}");
    assert!(errors[4].contains("call_id"), "{errors:?}");

    // The screen pop of the waiting caller, as the console draws it.
    for (sel, shown) in r["pop_visible"].as_object().expect("pop_visible") {
        assert_eq!(shown, true, "{sel} is visible while a call rings");
    }
    let pop = &r["pop"];
    let src = &r["pop_source"]["pop"];
    assert!(
        pop["ringing"].as_str().unwrap_or("").contains("Raw Tester"),
        "{pop}"
    );
    assert!(
        pop["caller"].as_str().unwrap_or("").contains("tester"),
        "{pop}"
    );
    assert_eq!(
        pop["reason"], src["reason_text"],
        "the reason in plain words: {pop}"
    );
    assert_eq!(pop["queue"], "console", "{pop}");
    assert_eq!(pop["language"], "English (en)", "{pop}");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        strings(&pop["path"]),
        strings(&src["path"]),
        "the path as a breadcrumb"
    );
    assert!(!strings(&pop["path"]).is_empty(), "{pop}");
    let transcript = strings(&pop["transcript"]);
    assert_eq!(
        transcript.len(),
        src["transcript"].as_array().map_or(0, Vec::len),
        "every transcript line: {pop}"
    );
    assert!(
        transcript
            .iter()
            .any(|l| l.starts_with("0:0") && l.contains("Line")),
        "lines carry a time and who spoke: {transcript:?}"
    );
    assert!(
        transcript.iter().any(|l| l.contains("Caller")),
        "the caller's key press is in the transcript: {transcript:?}"
    );
    let earlier = strings(&pop["earlier"]);
    assert!(
        earlier.len() >= 2 && earlier.iter().all(|r| r.contains("Pressed 0")),
        "the two earlier calls from this number: {earlier:?}"
    );

    // Notes typed during the call are stored with it once it is over.
    assert!(
        r["notes_while_live"]
            .as_str()
            .unwrap_or("")
            .starts_with("Kept"),
        "{}",
        r["notes_while_live"]
    );
    let after = &r["after_call"];
    assert!(
        after["phone"]
            .as_str()
            .unwrap_or("")
            .contains("The caller hung up"),
        "{after}"
    );
    assert_eq!(after["notes_editable"], true, "{after}");
    assert_eq!(after["ringing"], false, "{after}");
    let stored_notes = server
        .call(&queued_call_id)
        .map(|c| c["notes"].clone())
        .unwrap_or_default();
    assert_eq!(stored_notes, notes, "the notes are stored with the call");

    // The softphone: accept answers a real WebRTC offer with the microphone, fully gathered,
    // media flows, mute silences the track, hang up closes the peer. The answer went to the
    // server, which refused it: that probe call was never offered to alice.
    let phone_r = &r["softphone"];
    assert_eq!(phone_r["answer_type"], "answer", "{phone_r}");
    assert_eq!(
        phone_r["answer_has_candidates"], true,
        "no trickle: {phone_r}"
    );
    assert_eq!(phone_r["connection"], "connected", "{phone_r}");
    assert!(
        phone_r["packets_sent"].as_u64().unwrap_or(0) > 20,
        "{phone_r}"
    );
    assert_eq!(phone_r["mute_visible"], true, "{phone_r}");
    assert_eq!(phone_r["hangup_visible"], true, "{phone_r}");
    assert_eq!(phone_r["muted_track_enabled"], false, "{phone_r}");
    assert!(
        phone_r["server_errors"].as_array().is_some_and(|e| e
            .iter()
            .any(|m| m.as_str().unwrap_or("").contains("probe-call"))),
        "the server refuses an answer to a call it did not offer: {phone_r}"
    );
    assert!(
        phone_r["after_hangup"]
            .as_str()
            .unwrap_or("")
            .contains("You hung up"),
        "{phone_r}"
    );

    // The supervisor board.
    for (sel, shown) in r["supervisor_visible"].as_object().expect("visible") {
        assert_eq!(shown, true, "{sel} is visible on /supervisor");
    }
    let chart = r["chart"].as_array().expect("chart bars");
    // zero_out, human_request, hesitation, retries, fault, guard (issue 19's guard rails).
    assert_eq!(chart.len(), 6, "a bar per reason: {chart:?}");
    let zero = chart
        .iter()
        .find(|b| b["reason"] == "zero_out")
        .expect("zero_out bar");
    assert!(
        zero["count"].as_u64().unwrap_or(0) >= 2,
        "both calls that pressed 0 are counted: {chart:?}"
    );
    let widest = chart
        .iter()
        .map(|b| b["width"].as_f64().unwrap_or(0.0))
        .fold(0.0, f64::max);
    assert_eq!(
        zero["width"].as_f64(),
        Some(widest),
        "the biggest count has the longest bar: {chart:?}"
    );
    let figures = &r["figures"];
    let median = figures["tth-median"].as_str().unwrap_or("");
    assert!(
        median.ends_with(" s") && median != "–",
        "time to a person is shown: {figures}"
    );
    assert!(
        figures["tth-note"]
            .as_str()
            .unwrap_or("")
            .contains("over 1 finished call"),
        "{figures}"
    );
    let agents = r["agents_rows"].as_array().expect("agents rows");
    let alice = agents
        .iter()
        .find(|row| row[0] == AGENT.0)
        .unwrap_or_else(|| panic!("alice is listed: {agents:?}"));
    assert_eq!(alice[1], "Ready", "{alice}");
    assert_eq!(alice[2], "Browser", "{alice}");
    let calls = r["calls_rows"].as_array().expect("calls rows");
    assert!(
        calls
            .iter()
            .any(|row| row[0].as_str().unwrap_or("").contains("tester")),
        "the caller in the IVR is listed: {calls:?}"
    );
    for shot in [
        "agent_screenshot",
        "pop_screenshot",
        "supervisor_screenshot",
    ] {
        let p = r[shot].as_str().expect("screenshot path");
        let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{p} is a real screenshot ({len} bytes)");
    }
}

#[test]
fn pages_and_socket_are_for_the_right_people_only() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        extra_toml: format!("[queues.console]\nagents = [\"{}\"]\n", AGENT.0),
        users: users(&[("olga", "operator", "olga-password-1")]),
        ..Default::default()
    });
    let origin = format!("http://127.0.0.1:{}", server.http_port);

    // Nobody signed in: pages send to the login form, JSON is 401, no socket.
    for page in ["/agent", "/supervisor"] {
        let r = server.http("GET", page, &[], "");
        assert_eq!(r.status, 303, "{page}: {:?}", r.headers);
        assert_eq!(
            r.header("location"),
            Some(format!("/login?next={page}").as_str())
        );
    }
    for api in ["/api/supervisor", "/api/messages"] {
        assert_eq!(server.http("GET", api, &[], "").status, 401, "{api}");
    }
    assert_eq!(ws_handshake(&server, &[("Origin", &origin)]), 303);

    let alice = login(&server, AGENT);
    let bob = login(&server, SUPERVISOR);
    let olga = login(&server, ("olga", "olga-password-1"));
    let get = |cookie: &str, path: &str| server.http("GET", path, &[("Cookie", cookie)], "");
    assert_eq!(get(&alice, "/agent").status, 200);
    assert_eq!(
        get(&alice, "/supervisor").status,
        403,
        "an agent is no supervisor"
    );
    assert_eq!(get(&alice, "/api/supervisor").status, 403);
    assert_eq!(get(&alice, "/api/messages").status, 200);
    assert_eq!(
        get(&bob, "/agent").status,
        200,
        "a supervisor may take calls"
    );
    assert_eq!(get(&bob, "/supervisor").status, 200);
    assert_eq!(get(&bob, "/api/supervisor").status, 200);
    assert_eq!(
        get(&olga, "/agent").status,
        403,
        "an operator takes no calls"
    );
    assert_eq!(get(&olga, "/api/messages").status, 403);
    assert_eq!(
        ws_handshake(&server, &[("Cookie", &olga), ("Origin", &origin)]),
        403
    );

    // The page comes with a strict content policy (no inline script, nothing from elsewhere).
    let page = get(&alice, "/agent");
    let csp = page.header("content-security-policy").unwrap_or("");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(page.text().contains("/console/agent.js") && !page.text().contains("<script>"));
    let js = server.http("GET", "/console/agent.js", &[], "");
    assert_eq!(js.status, 200);
    assert!(js.text().contains("window.humanline"));

    // The socket: only from our own pages, only with a session.
    assert_eq!(
        ws_handshake(&server, &[("Cookie", &alice), ("Origin", &origin)]),
        101
    );
    assert_eq!(
        ws_handshake(
            &server,
            &[("Cookie", &alice), ("Origin", "http://evil.example")]
        ),
        403,
        "a page on another site cannot open the agent's socket"
    );
    assert_eq!(
        ws_handshake(&server, &[("Cookie", &alice)]),
        403,
        "no Origin, no socket"
    );
    let bearer = format!("Bearer {}", server.token);
    assert_eq!(
        ws_handshake(&server, &[("Authorization", &bearer), ("Origin", &origin)]),
        403,
        "a bearer token is not a console session"
    );

    // Marking a message done is a state change: the CSRF token is required.
    let post = |headers: &[(&str, &str)]| {
        server
            .http("POST", "/api/messages/nope/done", headers, "")
            .status
    };
    assert_eq!(post(&[("Cookie", &alice)]), 403, "no CSRF token");
    let csrf = get(&alice, "/api/me").json()["csrf"]
        .as_str()
        .expect("csrf token")
        .to_string();
    assert_eq!(
        post(&[("Cookie", &alice), ("X-CSRF-Token", &csrf)]),
        404,
        "with the token: no such message"
    );

    let v = get(&bob, "/api/supervisor").json();
    assert_eq!(
        v["escalations_today"].as_array().map(Vec::len),
        Some(6),
        "{v}"
    );
    assert_eq!(v["time_to_human"]["spread"]["count"], 0, "{v}");
    assert!(
        v["agents"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["name"] == AGENT.0)),
        "{v}"
    );
}
