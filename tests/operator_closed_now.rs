//! The emergency "closed now" switch, from the operator page in headless Chromium to a real SIP
//! call: an operator closes a line whose schedule says open, the next call takes the hours
//! node's closed way (and says why), the operator opens it again, the next call is open; every
//! change is in the history with who made it. Agents may not use the switch.

mod common;

use common::browser;
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{self, pause, Offer, Ports, Transport};
use std::path::Path;
use std::time::{Duration, Instant};

const OPERATOR: (&str, &str) = ("olga", "olga-password-1");
const AGENT: (&str, &str) = ("alice", "alice-password-1");

const PLAN: &str = r#"name = "support"
language = "en"
start = "hours"

[escalation]
queue = "support"

[nodes.hours]
hours = "always"
open = "menu"
closed = "closed"

[nodes.closed]
say = "closed"
transfer = "support"

[nodes.menu]
ask = "main_menu"
choices = [ { dtmf = "1", words = ["billing"], go = "bye" } ]

[nodes.bye]
say = "goodbye"
hangup = true
"#;

const ALWAYS: &str = "timezone = \"UTC\"\n[weekly]\nmon = \"00:00-24:00\"\ntue = \"00:00-24:00\"\nwed = \"00:00-24:00\"\nthu = \"00:00-24:00\"\nfri = \"00:00-24:00\"\nsat = \"00:00-24:00\"\nsun = \"00:00-24:00\"\n";

/// One short call; returns its stored record (the `n`th stored call).
fn call_once(server: &TestServer, n: usize) -> serde_json::Value {
    let work = tempfile::tempdir().unwrap();
    let caller = sipp::caller(
        work.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(2500)],
    );
    let caller = caller.wait(Duration::from_secs(30));
    assert!(caller.passed(), "caller: {}", caller.report());
    let stored = server.wait_stored_calls(n, Duration::from_secs(10));
    stored
        .iter()
        .max_by_key(|c| c["started_at_ms"].as_i64())
        .cloned()
        .expect("stored")
}

fn wait_file(path: &Path, timeout: Duration) {
    let end = Instant::now() + timeout;
    while !path.exists() {
        assert!(
            Instant::now() < end,
            "no {} within {timeout:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn operator_closes_the_line_now_in_a_browser_and_calls_take_the_closed_way() {
    let _g = serial();
    browser::require_browser();
    let users = [
        (OPERATOR.0, "operator", OPERATOR.1),
        (AGENT.0, "agent", AGENT.1),
    ]
    .iter()
    .map(|(n, r, p)| (n.to_string(), r.to_string(), p.to_string()))
    .collect();
    let server = TestServer::start(ServerOptions {
        users,
        plans: vec![("support".into(), PLAN.into())],
        schedules: vec![("always".into(), ALWAYS.into())],
        max_wait_seconds: 1.0,
        ..Default::default()
    });
    // An agent may not touch the switch.
    let alice = server.login(AGENT.0, AGENT.1);
    let refused = server.post_as(
        &alice,
        "/api/operator/closed-now",
        &serde_json::json!({"closed": true, "reason": "x"}),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());

    let signal = tempfile::tempdir().unwrap();
    let script = {
        let env = vec![
            ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
            ("OPERATOR_NAME", OPERATOR.0.to_string()),
            ("OPERATOR_PASSWORD", OPERATOR.1.to_string()),
            ("SIGNAL_DIR", signal.path().to_string_lossy().to_string()),
        ];
        std::thread::spawn(move || {
            browser::run_script("closed_now.js", &env, Duration::from_secs(150))
        })
    };
    wait_file(&signal.path().join("closed"), Duration::from_secs(90));
    let closed_call = call_once(&server, 1);
    assert_eq!(
        closed_call["path"],
        serde_json::json!(["hours", "closed"]),
        "{closed_call:#}"
    );
    assert!(
        closed_call["events"].to_string().contains("closed_now"),
        "the call says the operator closed the line: {closed_call:#}"
    );
    std::fs::write(signal.path().join("call_checked"), "").unwrap();
    let seen = script.join().expect("the browser script");

    assert!(
        seen["before"].as_str().unwrap().starts_with("Open"),
        "{seen:#}"
    );
    assert!(
        seen["without_reason"].as_str().unwrap().contains("Say why"),
        "{seen:#}"
    );
    assert_eq!(
        seen["closed"], "Closed now: fire alarm in the call centre",
        "{seen:#}"
    );
    assert_eq!(seen["button_closed"], "Open the line again");
    assert!(
        seen["after"].as_str().unwrap().starts_with("Open"),
        "{seen:#}"
    );
    let history: Vec<String> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history[0].contains("olga · opened"), "{history:?}");
    assert!(
        history[1].contains("olga · closed: fire alarm in the call centre"),
        "{history:?}"
    );

    let open_call = call_once(&server, 2);
    assert_eq!(
        open_call["path"],
        serde_json::json!(["hours", "menu"]),
        "{open_call:#}"
    );
}

#[test]
fn the_operator_simulator_takes_a_fixed_clock_and_the_switch() {
    let _g = serial();
    let users = vec![(
        OPERATOR.0.to_string(),
        "operator".to_string(),
        OPERATOR.1.to_string(),
    )];
    let server = TestServer::start(ServerOptions {
        users,
        plans: vec![("support".into(), PLAN.into())],
        schedules: vec![(
            "weekdays".into(),
            "timezone = \"UTC\"\n[weekly]\nmon = \"09:00-17:00\"\n".into(),
        )],
        ..Default::default()
    });
    let olga = server.login(OPERATOR.0, OPERATOR.1);
    let source = PLAN.replace("hours = \"always\"", "hours = \"weekdays\"");
    let sim = |at: &str| {
        let r = server.post_as(
            &olga,
            "/api/operator/simulate",
            &serde_json::json!({"name": "support", "source": source, "script": "", "at": at}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let hours = |v: &serde_json::Value| {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "hours")
            .map(|e| e["status"].as_str().unwrap().to_string())
    };
    assert_eq!(hours(&sim("2026-12-21T10:00Z")).as_deref(), Some("open"));
    assert_eq!(hours(&sim("2026-12-20T10:00Z")).as_deref(), Some("closed"));
    let bad = server.post_as(
        &olga,
        "/api/operator/simulate",
        &serde_json::json!({"name": "support", "source": source, "script": "", "at": "Christmas"}),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    // With the line closed now, the simulator takes the closed way too.
    let closed = server.post_as(
        &olga,
        "/api/operator/closed-now",
        &serde_json::json!({"closed": true, "reason": "drill"}),
    );
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert_eq!(
        hours(&sim("2026-12-21T10:00Z")).as_deref(),
        Some("closed_now")
    );
}
