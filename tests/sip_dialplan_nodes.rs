//! The new dialplan nodes over real SIP (sipp callers and agents, the real server): RFC 4733
//! digits collected and read back; a lookup to a local HTTP server that routes the caller and
//! whose fields reach the agent's screen pop; a lookup server that never answers sends the
//! caller down the failure branch.

mod common;

use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, agent_uri, dtmf, pause, Offer, Ports, Step, Transport};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The account keyed in these tests: it holds a 0, and its digits' sipp recordings carry rising
/// RTP timestamps (sipp replays each recording's own: 1 < 0 < 2 < … < 9), as a real phone's
/// would. A key whose recording is older than the last one is a stale packet to the receiver.
const ACCOUNT: &str = "10234567";

/// Keys `digits` by RFC 4733, 0.45 s apart.
fn keys(digits: &str) -> Vec<Step> {
    digits.chars().flat_map(|d| [dtmf(d), pause(450)]).collect()
}

/// A local HTTP endpoint on 127.0.0.1: answers every request with `body` (after `delay`), and
/// keeps the request lines it saw.
fn http_endpoint(body: &'static str, delay: Duration) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut s = stream;
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or("").to_string());
                std::thread::sleep(delay);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes());
            });
        }
    });
    (port, seen)
}

fn transcript_texts(call: &serde_json::Value) -> Vec<String> {
    call["turns"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| t["speaker"] == "system")
                .filter_map(|t| t["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rfc4733_digits_are_collected_and_read_back() {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let plan = r#"name = "support"
language = "en"
start = "account"

[escalation]
queue = "support"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 8
max_digits = 8
readback = "account_readback"
confirm = "account_confirm"
next = "bye"

[nodes.bye]
say = "goodbye"
hangup = true
"#;
    let server = TestServer::start(ServerOptions {
        plans: vec![("support".into(), plan.into())],
        ..ServerOptions::default()
    });
    // The yes to the read-back is a tone in the audio: sipp's recording of 1 has the oldest
    // RTP timestamp of all keys (see ACCOUNT).
    let yes = sipp::dtmf_tone_clip(work.path(), "yes_tone", '1', 0.2, 0.25, 0.5);
    let mut steps = vec![pause(1500)];
    steps.extend(keys(ACCOUNT));
    // The read-back: "You entered", eight digits, the confirm question (about 10 s).
    steps.push(pause(11_000));
    steps.push(sipp::stream(&yes));
    steps.push(pause(4000));
    let caller = sipp::caller(
        work.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &steps,
    );
    let caller = caller.wait(Duration::from_secs(40));
    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("the call is stored");
    assert!(
        caller.passed() || call["outcome"] == "completed",
        "caller: {}",
        caller.report()
    );
    let collected = call["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["kind"] == "collected")
        .map(|e| e["detail"]["value"].clone());
    assert_eq!(
        collected,
        Some(ACCOUNT.into()),
        "the digits arrived by RFC 4733 and went into the variable: {call:#}"
    );
    assert_eq!(
        call["path"],
        serde_json::json!(["account", "bye"]),
        "{call:#}"
    );
    let said = transcript_texts(call);
    let at = said
        .iter()
        .position(|t| t == "You entered")
        .unwrap_or_else(|| panic!("no read-back: {said:?}"));
    assert_eq!(
        said[at + 1..at + 9],
        ["One", "Zero", "Two", "Three", "Four", "Five", "Six", "Seven"],
        "read back digit by digit: {said:?}"
    );
    assert_eq!(
        call["dtmf"].as_str().map(|d| d.starts_with(ACCOUNT)),
        Some(true),
        "{call:#}"
    );
}

/// collect → lookup → branch on the looked-up tier: gold callers go straight to the gold
/// queue, others to the menu; a lookup failure goes to the menu too.
fn lookup_plan(port: u16, timeout: f64) -> String {
    format!(
        r#"name = "support"
language = "en"
start = "account"

[escalation]
queue = "support"

[nodes.account]
collect = "account_ask"
var = "account"
min_digits = 8
max_digits = 8
next = "find"

[nodes.find]
lookup = "http://127.0.0.1:{port}/crm/accounts/{{account}}"
fields = {{ tier = "customer.tier", balance = "balance" }}
timeout_seconds = {timeout}
next = "route"
failure = "menu"

[nodes.route]
branch = "tier"
cases = {{ gold = "gold" }}
default = "menu"

[nodes.gold]
say = "connecting"
transfer = "support"

[nodes.menu]
ask = "main_menu"
choices = [ {{ dtmf = "1", words = ["billing"], go = "bye" }} ]

[nodes.bye]
say = "goodbye"
hangup = true
"#
    )
}

#[test]
fn a_lookup_to_a_local_http_server_routes_the_caller_and_fills_the_screen_pop() {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (port, seen) = http_endpoint(
        r#"{"balance": "12.50", "customer": {"tier": "gold"}}"#,
        Duration::ZERO,
    );
    let agent_clip = sipp::speech_clip(dir, "agent", "Hello, gold line, how can I help?");
    let agent_ports = Ports::free();
    let server = TestServer::start(ServerOptions {
        plans: vec![("support".into(), lookup_plan(port, 3.0))],
        agents: vec![agent_uri(agent_ports)],
        extra_toml: format!("[lookups]\nallow = [\"http://127.0.0.1:{port}/crm/\"]\n"),
        ..ServerOptions::default()
    });
    let agent = sipp::agent_for_reason(dir, agent_ports, &agent_clip, "routed");
    let mut steps = vec![pause(1500)];
    steps.extend(keys(ACCOUNT));
    steps.push(pause(8000));
    let caller = sipp::caller(
        dir,
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &steps,
    );
    let pop = server.wait_for(Duration::from_secs(20), |s| {
        s.live_calls()
            .into_iter()
            .find(|c| c["state"] == "bridged")
            .and_then(|c| c.get("pop").cloned())
    });
    let caller = caller.wait(Duration::from_secs(40));
    let agent = agent.wait(Duration::from_secs(10));
    assert!(agent.passed(), "agent: {}", agent.report());
    assert!(caller.passed(), "caller: {}", caller.report());
    let pop = pop.expect("the call was bridged to the gold line's agent");
    assert_eq!(pop["vars"]["tier"], "gold", "{pop:#}");
    assert_eq!(pop["vars"]["balance"], "12.50", "{pop:#}");
    assert_eq!(
        seen.lock().unwrap().first().map(String::as_str),
        Some("GET /crm/accounts/10234567 HTTP/1.1"),
        "the endpoint was asked for the keyed account"
    );
    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("stored");
    assert_eq!(
        call["path"],
        serde_json::json!(["account", "find", "route", "gold"]),
        "{call:#}"
    );
}

#[test]
fn a_lookup_server_that_never_answers_takes_the_failure_branch() {
    let _serial = serial();
    let work = tempfile::tempdir().unwrap();
    let (port, seen) = http_endpoint(r#"{"customer": {"tier": "gold"}}"#, Duration::from_secs(30));
    let server = TestServer::start(ServerOptions {
        plans: vec![("support".into(), lookup_plan(port, 1.5))],
        extra_toml: format!("[lookups]\nallow = [\"http://127.0.0.1:{port}/crm/\"]\n"),
        ..ServerOptions::default()
    });
    let mut steps = vec![pause(1500)];
    steps.extend(keys(ACCOUNT));
    steps.push(pause(6000));
    let caller = sipp::caller(
        work.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &steps,
    );
    let caller = caller.wait(Duration::from_secs(40));
    assert!(caller.passed(), "caller: {}", caller.report());
    let stored = server.wait_stored_calls(1, Duration::from_secs(10));
    let call = stored.first().expect("stored");
    assert_eq!(
        call["path"],
        serde_json::json!(["account", "find", "menu"]),
        "{call:#}"
    );
    let events = call["events"].to_string();
    assert!(
        events.contains("failed: no answer within 1.5 s"),
        "{events}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the endpoint was asked once");
}
