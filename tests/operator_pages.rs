//! The operator page against the real server. In a browser (headless Chromium): an operator
//! opens support.toml, breaks it and sees the checker's error at the right line, fixes it by
//! adding a node that then shows in the flow graph, simulates a caller, publishes while a sipp
//! call is running (that call finishes on the old version, the next one gets the new version),
//! diffs the two versions and rolls back. Over plain HTTP: prompt management (list, listen,
//! upload with conversion, refusal of bad files, espeak-ng regeneration) and who may use it.
//! Both servers serve private copies of dialplans/ and prompts/.

mod common;

use common::browser;
use common::server::{serial, HttpReply, ServerOptions, TestServer, WebSession};
use common::sipp::{self, pause, Offer, Ports, Transport};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
const OPERATOR: (&str, &str) = ("olga", "olga-password-1");
const AGENT: (&str, &str) = ("alice", "alice-password-1");

fn users() -> Vec<(String, String, String)> {
    [
        (OPERATOR.0, "operator", OPERATOR.1),
        (AGENT.0, "agent", AGENT.1),
    ]
    .iter()
    .map(|(n, r, p)| (n.to_string(), r.to_string(), p.to_string()))
    .collect()
}

fn login(server: &TestServer, (name, password): (&str, &str)) -> WebSession {
    server.login(name, password)
}

/// Requests as a signed-in browser, with raw bodies (WAV uploads).
trait Browser {
    fn get(&self, server: &TestServer, path: &str) -> HttpReply;
    fn post(&self, server: &TestServer, path: &str, kind: &str, body: &[u8]) -> HttpReply;
}

impl Browser for WebSession {
    fn get(&self, server: &TestServer, path: &str) -> HttpReply {
        server.http("GET", path, &[("Cookie", &self.cookie)], "")
    }
    fn post(&self, server: &TestServer, path: &str, kind: &str, body: &[u8]) -> HttpReply {
        server.http_bytes(
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("X-CSRF-Token", &self.csrf),
                ("Content-Type", kind),
            ],
            body,
        )
    }
}

fn prompt<'a>(list: &'a Value, lang: &str, name: &str) -> &'a Value {
    list["languages"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["language"] == lang))
        .and_then(|l| l["prompts"].as_array())
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{lang}/{name} is listed: {list}"))
}

fn sox(args: &[&str]) {
    let out = Command::new("sox")
        .args(args)
        .output()
        .expect("run sox (apt-get install sox)");
    assert!(
        out.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wav_spec(path: &Path) -> (hound::WavSpec, u32) {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (r.spec(), r.duration())
}

#[test]
fn prompts_are_listed_replaced_and_regenerated_by_operators_only() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        users: users(),
        private_plans: true,
        ..Default::default()
    });
    let olga = login(&server, OPERATOR);
    let alice = login(&server, AGENT);
    let on_disk = server.dir.path().join("prompts/en/welcome.wav");
    let url = "/api/operator/prompts/en/welcome";

    // Who may: nobody signed in gets 401, an agent 403, on every route.
    for path in [
        "/api/operator/prompts",
        "/api/operator/prompts/en/welcome/audio",
    ] {
        assert_eq!(server.http("GET", path, &[], "").status, 401, "{path}");
        assert_eq!(alice.get(&server, path).status, 403, "{path}");
    }
    assert_eq!(server.http("POST", url, &[], "x").status, 401);
    assert_eq!(alice.post(&server, url, "audio/wav", b"x").status, 403);
    let tts = format!("{url}/tts");
    assert_eq!(
        alice
            .post(&server, &tts, "application/json", br#"{"text":"hi"}"#)
            .status,
        403
    );
    let no_csrf = server.http_bytes("POST", url, &[("Cookie", &olga.cookie)], b"x");
    assert_eq!(no_csrf.status, 403, "a POST without the CSRF token");

    // The list: both languages, texts and lengths of the committed prompts.
    let list = olga.get(&server, "/api/operator/prompts").json();
    let welcome = prompt(&list, "en", "welcome");
    assert!(
        welcome["text"].as_str().unwrap_or("").contains("Welcome"),
        "{welcome}"
    );
    assert_eq!(welcome["sample_rate"], 8000, "{welcome}");
    let (spec, frames) = wav_spec(&on_disk);
    let listed = welcome["duration_s"].as_f64().unwrap_or(0.0);
    assert!(
        (listed - f64::from(frames) / f64::from(spec.sample_rate)).abs() < 0.001,
        "{welcome}"
    );
    assert!(prompt(&list, "zh", "welcome")["pinyin"].is_string());
    let audio = olga.get(&server, "/api/operator/prompts/en/welcome/audio");
    assert_eq!(audio.status, 200);
    assert_eq!(audio.header("content-type"), Some("audio/wav"));
    assert_eq!(audio.body, std::fs::read(&on_disk).expect("read prompt"));

    // A CD-quality stereo recording becomes 8 kHz mono 16-bit of the same length.
    let tmp = tempfile::tempdir().expect("tmp");
    let cd = tmp.path().join("cd.wav");
    sox(&[
        "-n",
        "-r",
        "44100",
        "-c",
        "2",
        "-b",
        "16",
        cd.to_str().expect("path"),
        "synth",
        "1.5",
        "sine",
        "440",
    ]);
    let r = olga.post(
        &server,
        url,
        "audio/wav",
        &std::fs::read(&cd).expect("read clip"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    assert_eq!(info["sample_rate"], 8000, "{info}");
    assert_eq!(info["channels"], 1, "{info}");
    assert_eq!(info["bits"], 16, "{info}");
    assert!(
        (info["duration_s"].as_f64().unwrap_or(0.0) - 1.5).abs() < 0.01,
        "{info}"
    );
    let (spec, frames) = wav_spec(&on_disk);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    assert!(
        (11_900..=12_100).contains(&frames),
        "{frames} samples at 8 kHz"
    );
    let listed = olga.get(&server, "/api/operator/prompts").json();
    assert!(
        (prompt(&listed, "en", "welcome")["duration_s"]
            .as_f64()
            .unwrap_or(0.0)
            - 1.5)
            .abs()
            < 0.01,
        "the list shows the new length"
    );

    // Bad files are refused with a reason, and the prompt stays as it was.
    let before = std::fs::read(&on_disk).expect("read prompt");
    let big = vec![0u8; 10 * 1024 * 1024 + 100];
    let long = tmp.path().join("long.wav");
    sox(&[
        "-n",
        "-r",
        "8000",
        "-c",
        "1",
        "-b",
        "8",
        long.to_str().expect("path"),
        "trim",
        "0",
        "61",
    ]);
    let long = std::fs::read(&long).expect("read long clip");
    for (what, body, says) in [
        (
            "garbage",
            &b"definitely not a wave file"[..],
            "not a WAV file",
        ),
        ("an empty body", &b""[..], "empty"),
        ("61 s of audio", &long[..], "at most 60"),
        ("an 11 MB file", &big[..], "10 MB"),
    ] {
        let r = olga.post(&server, url, "audio/wav", body);
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        let error = r.json()["error"].as_str().unwrap_or("").to_string();
        assert!(error.contains(says), "{what}: {error:?}");
        assert_eq!(
            std::fs::read(&on_disk).expect("read prompt"),
            before,
            "{what} left the prompt untouched"
        );
    }
    // Names that could leave the prompts folder, and unknown languages.
    for path in [
        "/api/operator/prompts/en/..%2F..%2Fhumanline/audio",
        "/api/operator/prompts/fr/welcome/audio",
        "/api/operator/prompts/en/Welcome/audio",
    ] {
        assert_eq!(olga.get(&server, path).status, 400, "{path}");
    }
    assert_eq!(
        olga.post(
            &server,
            "/api/operator/prompts/..%2Fen/welcome",
            "audio/wav",
            &before
        )
        .status,
        400
    );

    // Regenerated from text with espeak-ng: stored with its text, 8 kHz mono, a real length.
    let r = olga.post(
        &server,
        &tts,
        "application/json",
        br#"{"text":"Welcome to the new support line."}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    let secs = info["duration_s"].as_f64().unwrap_or(0.0);
    assert!((1.0..6.0).contains(&secs), "{info}");
    assert_eq!(info["text"], "Welcome to the new support line.", "{info}");
    assert_eq!(
        std::fs::read_to_string(server.dir.path().join("prompts/en/welcome.txt"))
            .expect("text file")
            .trim(),
        "Welcome to the new support line."
    );
    let (spec, _) = wav_spec(&on_disk);
    assert_eq!((spec.sample_rate, spec.channels), (8000, 1));
    let zh = olga.post(
        &server,
        "/api/operator/prompts/zh/goodbye/tts",
        "application/json",
        r#"{"text":"再见"}"#.as_bytes(),
    );
    assert_eq!(zh.status, 200, "{}", zh.text());
    assert!(zh.json()["duration_s"].as_f64().unwrap_or(0.0) > 0.3);
    let empty = olga.post(&server, &tts, "application/json", br#"{"text":"  "}"#);
    assert_eq!(empty.status, 400, "{}", empty.text());
}

/// Polls for a file the browser script writes.
fn wait_file(path: &Path, timeout: Duration, script: &std::thread::JoinHandle<Value>) -> String {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        assert!(
            !script.is_finished(),
            "the browser script ended before writing {}",
            path.display()
        );
        assert!(
            Instant::now() < deadline,
            "no {} within {timeout:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The live version id and the sha256 of every version of `support`, from the plan API.
fn support_versions(server: &TestServer) -> (i64, Vec<(i64, String, Option<i64>)>) {
    let (code, plan) = server.get("/api/operator/plans/support");
    assert_eq!(code, 200, "{plan}");
    let versions = plan["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("versions listed: {plan}"))
        .iter()
        .map(|v| {
            (
                v["id"].as_i64().unwrap_or(-1),
                v["sha256"].as_str().unwrap_or("").to_string(),
                v["published_at_ms"].as_i64(),
            )
        })
        .collect();
    (plan["live_version_id"].as_i64().unwrap_or(-1), versions)
}

/// The version id a stored call ran: its `dialplan_version_id`, or else its version hash
/// looked up among the plan's versions.
fn version_of(call: &Value, versions: &[(i64, String, Option<i64>)]) -> i64 {
    if let Some(id) = call["dialplan_version_id"].as_i64() {
        return id;
    }
    let sha = call["dialplan_version"].as_str().unwrap_or("");
    versions
        .iter()
        .find(|(_, s, _)| s == sha)
        .map(|(id, _, _)| *id)
        .unwrap_or_else(|| panic!("call {} ran an unknown version {sha:?}", call["id"]))
}

#[test]
fn operator_edits_checks_simulates_publishes_and_rolls_back_in_a_browser() {
    let _g = serial();
    browser::require_browser();
    let server = TestServer::start(ServerOptions {
        users: users(),
        private_plans: true,
        ..Default::default()
    });
    let (live_before, _) = support_versions(&server);
    let signal = tempfile::tempdir().expect("signal dir");
    let script = {
        let env = vec![
            ("BASE", format!("http://127.0.0.1:{}", server.http_port)),
            ("OPERATOR_NAME", OPERATOR.0.to_string()),
            ("OPERATOR_PASSWORD", OPERATOR.1.to_string()),
            ("SIGNAL_DIR", signal.path().to_string_lossy().to_string()),
        ];
        std::thread::spawn(move || {
            browser::run_script("operator_page.js", &env, Duration::from_secs(200))
        })
    };

    // Call A starts on the live version before the operator publishes and stays 20 s.
    wait_file(&signal.path().join("ready_to_publish"), 120 * SEC, &script);
    let dir_a = tempfile::tempdir().expect("sipp dir");
    let call_a = sipp::caller(
        dir_a.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(20_000)],
    );
    assert!(
        server.wait_active(1, 10 * SEC),
        "call A is in progress before publishing"
    );
    std::fs::write(signal.path().join("call_a_started"), "").expect("signal");

    // Once published, call B gets the new version; A finishes on the old one.
    let published: Value = serde_json::from_str(&wait_file(
        &signal.path().join("published"),
        60 * SEC,
        &script,
    ))
    .expect("published signal is JSON");
    let new_version = published["new"].as_i64().expect("new version id");
    assert_eq!(published["old"].as_i64(), Some(live_before));
    assert_ne!(new_version, live_before);
    let dir_b = tempfile::tempdir().expect("sipp dir");
    let call_b = sipp::caller(
        dir_b.path(),
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(2_000)],
    );
    let b = call_b.wait(30 * SEC);
    assert!(b.passed(), "call B: {}", b.report());
    let a = call_a.wait(40 * SEC);
    assert!(a.passed(), "call A: {}", a.report());
    let stored = server.wait_stored_calls(2, 10 * SEC);
    assert_eq!(stored.len(), 2, "both calls are stored: {stored:?}");
    let (live_now, versions) = support_versions(&server);
    assert_eq!(live_now, new_version, "the published version is live");
    let by_start = {
        let mut calls: Vec<Value> = stored
            .iter()
            .filter_map(|c| c["id"].as_str().and_then(|id| server.call(id)))
            .collect();
        calls.sort_by_key(|c| c["started_at_ms"].as_i64().unwrap_or(0));
        calls
    };
    let (first, second) = (&by_start[0], &by_start[1]);
    let published_at = versions
        .iter()
        .find(|(id, _, _)| *id == new_version)
        .and_then(|(_, _, at)| *at)
        .expect("the new version has a publish time");
    assert!(
        first["started_at_ms"].as_i64().unwrap_or(i64::MAX) < published_at
            && first["ended_at_ms"].as_i64().unwrap_or(0) > published_at,
        "call A was in progress while publishing ({published_at}): {first}"
    );
    assert_eq!(
        version_of(first, &versions),
        live_before,
        "call A finished on the version it started with"
    );
    assert_eq!(
        version_of(second, &versions),
        new_version,
        "call B, after publishing, got the new version"
    );
    std::fs::write(signal.path().join("calls_checked"), "").expect("signal");

    let r = script
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    eprintln!(
        "browser saw: {}",
        serde_json::to_string_pretty(&r).unwrap_or_default()
    );

    // The editor: CodeMirror with TOML highlighting, the checker's error under the right line.
    assert_eq!(r["has_codemirror"], true);
    assert!(
        r["toml_tokens"].as_u64().unwrap_or(0) > 20,
        "strings are highlighted: {r}"
    );
    let broken = r["broken_line"].as_u64().expect("broken line");
    // welcome's `next` (the first `next = "menu"` of support.toml), counted from 1.
    let plan = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans/support.toml"),
    )
    .unwrap();
    let want = plan
        .lines()
        .position(|l| l.trim() == "next = \"menu\"")
        .map(|i| i as u64 + 1);
    assert_eq!(
        Some(broken),
        want,
        "welcome's `next` is line {want:?} of support.toml"
    );
    let widgets = r["widgets"].as_array().expect("widgets");
    let w = widgets
        .iter()
        .find(|w| w["text"].as_str().unwrap_or("").contains("menuu"))
        .unwrap_or_else(|| panic!("an inline error names the missing node: {widgets:?}"));
    assert_eq!(w["line"].as_u64(), Some(broken), "{w}");
    assert_eq!(
        w["shown_under_line"].as_u64(),
        Some(broken),
        "drawn under line {broken}: {w}"
    );
    assert_eq!(w["severity"], "error", "{w}");
    assert!(
        r["markers"].as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["shown_at_line"].as_u64() == Some(broken))),
        "a gutter marker at line {broken}: {}",
        r["markers"]
    );
    assert!(
        r["status_broken"].as_str().unwrap_or("").contains("error"),
        "{}",
        r["status_broken"]
    );
    assert_eq!(r["publish_disabled_while_broken"], true);
    assert_eq!(r["widgets_after_fix"], 0, "fixing clears the inline errors");

    // The graph: the new node, the choice leading to it, the always-present edges.
    let ids: Vec<&str> = r["nodes_after"]
        .as_array()
        .map(|n| n.iter().filter_map(|n| n["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(!r["nodes_before"]
        .as_array()
        .is_some_and(|n| n.iter().any(|x| x == "callback")));
    assert!(
        ids.contains(&"callback") && ids.contains(&"menu"),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|i| i.starts_with("queue:")),
        "a queue node: {ids:?}"
    );
    assert!(
        r["edge_to_callback"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["from"] == "menu" && e["kind"] == "choice")),
        "{}",
        r["edge_to_callback"]
    );
    assert!(
        r["faint_edges"].as_u64().unwrap_or(0) >= ids.len() as u64 - 1,
        "zero-out and escalation edges are drawn: {}",
        r["faint_edges"]
    );
    assert!(
        r["choice_labels"].as_array().is_some_and(|l| l
            .iter()
            .any(|t| t.as_str().unwrap_or("").contains("call me back"))),
        "{}",
        r["choice_labels"]
    );
    assert_eq!(r["publish_enabled_when_valid"], true);

    // The simulator.
    assert_eq!(r["sim_node"], "billing");
    assert_eq!(r["sim_reason"], "human_request");
    assert!(
        r["sim_escalation_text"]
            .as_str()
            .unwrap_or("")
            .contains("human_request"),
        "{}",
        r["sim_escalation_text"]
    );
    assert!(
        r["sim_log"].as_array().is_some_and(|l| l
            .iter()
            .any(|t| t.as_str().unwrap_or("").contains("I want a human"))),
        "{}",
        r["sim_log"]
    );
    for (sel, shown) in r["visible"].as_object().expect("visible") {
        assert_eq!(shown, true, "{sel} is visible in the editor screenshot");
    }
    for shot in ["editor_screenshot", "broken_screenshot", "diff_screenshot"] {
        let p = r[shot].as_str().expect("screenshot path");
        let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 30_000, "{p} is a real screenshot ({len} bytes)");
    }

    // Publish, diff, rollback.
    assert_eq!(r["published_version"].as_i64(), Some(new_version));
    let added: Vec<&str> = r["diff_added"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        added.iter().any(|l| l.contains("[nodes.callback]")),
        "{added:?}"
    );
    assert!(
        added.iter().any(|l| l.contains("dtmf = \"5\"")),
        "{added:?}"
    );
    assert!(
        r["diff_removed"].as_array().is_some_and(|d| d.is_empty()),
        "{}",
        r["diff_removed"]
    );
    let live_row = r["live_row_after"].as_array().expect("live row");
    assert_eq!(
        live_row,
        &vec![Value::from(live_before)],
        "the old version is marked live"
    );
    assert!(
        r["plans_after"]
            .as_array()
            .is_some_and(|p| p.iter().any(|t| t
                .as_str()
                .unwrap_or("")
                .contains(&format!("live v{live_before}")))),
        "{}",
        r["plans_after"]
    );
    assert_eq!(
        r["editor_has_callback_after"], false,
        "the editor shows the restored version"
    );
    let (code, plans) = server.get("/api/operator/plans");
    assert_eq!(code, 200, "{plans}");
    let support = plans
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "support"))
        .unwrap_or_else(|| panic!("support is listed: {plans}"));
    assert_eq!(
        support["live_version_id"].as_i64(),
        Some(live_before),
        "{support}"
    );

    // The prompts panel.
    let welcome = &r["welcome_row"];
    assert!(
        welcome["text"].as_str().unwrap_or("").contains("Welcome"),
        "{welcome}"
    );
    assert!(
        welcome["length"].as_str().unwrap_or("").ends_with(" s"),
        "{welcome}"
    );
    assert_eq!(welcome["audio_status"], 200, "{welcome}");
    assert_eq!(welcome["riff"], "RIFF", "{welcome}");
    assert_eq!(welcome["has_upload"], true);
    assert_eq!(welcome["has_regenerate"], true);
    assert!(
        r["prompt_rows_en"].as_u64().unwrap_or(0) >= 20,
        "{}",
        r["prompt_rows_en"]
    );
    assert!(r["zh_rows"].as_u64().unwrap_or(0) >= 20 && r["zh_visible"] == true);
}

#[test]
fn the_operator_page_is_for_operators_and_supervisors() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        users: users(),
        ..Default::default()
    });
    let r = server.http("GET", "/operator", &[], "");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/operator"));
    let alice = login(&server, AGENT);
    assert_eq!(alice.get(&server, "/operator").status, 403, "an agent");
    let olga = login(&server, OPERATOR);
    let page = olga.get(&server, "/operator");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or("");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let html = page.text();
    assert!(html.contains("/assets/codemirror/codemirror.js") && !html.contains("<script>"));
    for asset in [
        "/assets/codemirror/codemirror.js",
        "/assets/codemirror/codemirror.css",
        "/assets/codemirror/toml.js",
        "/operator/operator.js",
        "/operator/operator.css",
    ] {
        let r = server.http("GET", asset, &[], "");
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.body.len() > 1000, "{asset}");
    }
}
