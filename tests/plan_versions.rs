//! Dialplan versions on a running server, through the operator API and real SIP calls:
//! publishing validates first and never changes a call in progress, rollback brings an old
//! version back, and a plan file edited on disk goes live when valid and is reported when not.

mod common;

use common::server::{serial, ServerOptions, TestServer, WebSession};
use common::sipp::{self, pause, Offer, Ports, Transport};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "operator-pass-1";

fn start() -> (TestServer, WebSession) {
    let server = TestServer::start(ServerOptions {
        private_plans: true,
        users: vec![
            ("olga".into(), "operator".into(), PASSWORD.into()),
            ("alice".into(), "agent".into(), PASSWORD.into()),
        ],
        ..Default::default()
    });
    let olga = server.login("olga", PASSWORD);
    (server, olga)
}

fn live_version(server: &TestServer, olga: &WebSession) -> i64 {
    let r = server.get_as(olga, "/api/operator/plans/support");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["live_version_id"]
        .as_i64()
        .expect("a live version")
}

/// The demo plan with a fifth menu choice leading to a new node `callback`.
fn with_callback_node(source: &str) -> String {
    let choice = r#"go = "hours", set = { topic = "hours" } },"#;
    assert!(
        source.contains(choice),
        "the demo menu changed; update this test"
    );
    source.replace(
        choice,
        &format!("{choice}\n  {{ dtmf = \"5\", words = [\"call me back\", \"callback\"], go = \"callback\" }},"),
    ) + "\n[nodes.callback]\nsay = \"goodbye\"\nhangup = true\n"
}

/// A sipp caller that stays on the line for `hold` and then hangs up; its files go into a
/// folder of their own under `dir`, so callers can overlap.
fn caller(dir: &std::path::Path, server: &TestServer, hold: Duration) -> sipp::SippRun {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let own = dir.join(format!(
        "caller{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&own).unwrap();
    sipp::caller(
        &own,
        Ports::free(),
        server.sip_addr(),
        Transport::Udp,
        Offer::PcmuWithTelephoneEvent,
        &[pause(hold.as_millis() as u64)],
    )
}

/// The line of the first occurrence of `needle` in `text`, 1-based.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn operator_api_needs_an_operator_login() {
    let _g = serial();
    let (server, _olga) = start();
    let anon = server.http("GET", "/api/operator/plans", &[], "");
    assert_eq!(anon.status, 401);
    let alice = server.login("alice", PASSWORD);
    assert_eq!(server.get_as(&alice, "/api/operator/plans").status, 403);
    let publish = server.post_as(
        &alice,
        "/api/operator/plans/support/publish",
        &json!({"source": ""}),
    );
    assert_eq!(publish.status, 403, "an agent may not publish");
    // A session without its CSRF token cannot change anything either.
    let olga = server.login("olga", PASSWORD);
    let forged = server.http(
        "POST",
        "/api/operator/plans/support/rollback",
        &[
            ("Cookie", &olga.cookie),
            ("Content-Type", "application/json"),
        ],
        r#"{"version_id":1}"#,
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
}

#[test]
fn publish_validates_calls_in_progress_keep_their_version_and_rollback_restores() {
    let _g = serial();
    let (server, olga) = start();
    let dir = tempfile::tempdir().unwrap();
    let plans = server.get_as(&olga, "/api/operator/plans").json();
    let names: Vec<&str> = plans
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["accounts", "accounts_zh", "support", "support_zh"]);
    let old_version = live_version(&server, &olga);
    let plan = server.get_as(&olga, "/api/operator/plans/support").json();
    let old_source = plan["source"].as_str().expect("live source").to_string();

    // An error: the check names its line, and publishing it is refused.
    let new_source = with_callback_node(&old_source);
    let broken = new_source.replace("go = \"callback\"", "go = \"nowhere\"");
    let check = server.post_as(
        &olga,
        "/api/operator/check",
        &json!({"name": "support", "source": broken}),
    );
    assert_eq!(check.status, 200, "{}", check.text());
    let check = check.json();
    assert_eq!(check["ok"], false);
    let missing = check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "missing_node")
        .unwrap_or_else(|| panic!("no missing-node diagnostic: {check}"));
    assert_eq!(
        missing["line"].as_u64(),
        Some(line_of(&broken, "nowhere") as u64),
        "{missing}"
    );
    let refused = server.post_as(
        &olga,
        "/api/operator/plans/support/publish",
        &json!({"source": broken}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(refused.json()["diagnostics"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
    assert_eq!(
        live_version(&server, &olga),
        old_version,
        "a refused plan changes nothing"
    );

    // The fixed plan checks clean and its graph has the new node.
    let check = server
        .post_as(
            &olga,
            "/api/operator/check",
            &json!({"name": "support", "source": new_source}),
        )
        .json();
    assert_eq!(check["ok"], true, "{check}");
    let graph_has = |id: &str| {
        check["graph"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id)
    };
    assert!(
        graph_has("callback") && graph_has("queue:support"),
        "{}",
        check["graph"]
    );

    // A call that starts before publishing…
    let call_a = caller(dir.path(), &server, Duration::from_secs(6));
    let a_live = server
        .wait_for(Duration::from_secs(10), |s| {
            s.live_calls().into_iter().next()
        })
        .expect("call A is live");
    assert_eq!(a_live["dialplan_version_id"].as_i64(), Some(old_version));

    let published = server.post_as(
        &olga,
        "/api/operator/plans/support/publish",
        &json!({"source": new_source}),
    );
    assert_eq!(published.status, 200, "{}", published.text());
    let new_version = published.json()["version_id"].as_i64().unwrap();
    assert_ne!(new_version, old_version);
    assert_eq!(live_version(&server, &olga), new_version);
    let on_disk =
        std::fs::read_to_string(server.dir.path().join("dialplans/support.toml")).unwrap();
    assert_eq!(on_disk, new_source, "publishing writes the plan file");

    // …and one after it.
    let call_b = caller(dir.path(), &server, Duration::from_secs(1));
    let a = call_a.wait(Duration::from_secs(30));
    let b = call_b.wait(Duration::from_secs(30));
    assert!(a.passed() && b.passed(), "{}\n{}", a.report(), b.report());
    let calls = server.wait_stored_calls(2, Duration::from_secs(10));
    let version_of =
        |sip_call_id_order: usize| calls[sip_call_id_order]["dialplan_version_id"].as_i64();
    // Newest first: B, then A.
    assert_eq!(
        (version_of(1), version_of(0)),
        (Some(old_version), Some(new_version)),
        "{calls:?}"
    );

    // The diff shows the added node; rollback brings the old version back for new calls.
    let diff = server
        .get_as(
            &olga,
            &format!("/api/operator/plans/support/diff?from={old_version}&to={new_version}"),
        )
        .json();
    let added: Vec<&str> = diff["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] == "+")
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(added.contains(&"[nodes.callback]"), "{added:?}");
    assert!(
        diff["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["op"] != "-"),
        "only additions"
    );
    let back = server.post_as(
        &olga,
        "/api/operator/plans/support/rollback",
        &json!({"version_id": old_version}),
    );
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(live_version(&server, &olga), old_version);
    let versions = server.get_as(&olga, "/api/operator/plans/support").json();
    let live: Vec<&Value> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["live"] == true)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(
        (
            live[0]["id"].as_i64(),
            live[0]["action"].as_str(),
            live[0]["published_by"].as_str()
        ),
        (Some(old_version), Some("rollback"), Some("olga"))
    );
    let call_c = caller(dir.path(), &server, Duration::from_secs(1)).wait(Duration::from_secs(30));
    assert!(call_c.passed(), "{}", call_c.report());
    let calls = server.wait_stored_calls(3, Duration::from_secs(10));
    assert_eq!(calls[0]["dialplan_version_id"].as_i64(), Some(old_version));
}

#[test]
fn plan_file_edited_on_disk_goes_live_when_valid_and_is_reported_when_not() {
    let _g = serial();
    let (server, olga) = start();
    let path = server.dir.path().join("dialplans/support.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let first = live_version(&server, &olga);

    // A valid edit goes live without a call asking for it (the watcher reads it).
    let edited = with_callback_node(&original);
    std::fs::write(&path, &edited).unwrap();
    let second = server
        .wait_for(Duration::from_secs(10), |_| {
            let v = live_version(&server, &olga);
            (v != first).then_some(v)
        })
        .expect("the edited file went live");

    // An invalid edit leaves that version live and is reported with file and line.
    let bad = edited.replace("hangup = true", "hangup = maybe");
    std::fs::write(&path, &bad).unwrap();
    let error = server
        .wait_for(Duration::from_secs(10), |_| {
            let plans = server.get_as(&olga, "/api/operator/plans").json();
            plans.as_array()?.iter().find(|p| p["name"] == "support")?["reload_error"]
                .as_str()
                .map(str::to_string)
        })
        .expect("the bad edit is reported");
    let line = line_of(&bad, "hangup = maybe");
    assert!(error.contains(&format!("support.toml:{line}:")), "{error}");
    assert_eq!(
        live_version(&server, &olga),
        second,
        "the last good version stays live"
    );
    assert!(server
        .log()
        .contains("not loaded; calls keep the last good version"));

    // A call now runs on the last good version.
    let dir = tempfile::tempdir().unwrap();
    let run = caller(dir.path(), &server, Duration::from_secs(1)).wait(Duration::from_secs(30));
    assert!(run.passed(), "{}", run.report());
    let calls = server.wait_stored_calls(1, Duration::from_secs(10));
    assert_eq!(calls[0]["dialplan_version_id"].as_i64(), Some(second));

    // Mending the file clears the report.
    std::fs::write(&path, &edited).unwrap();
    let cleared = server.wait_for(Duration::from_secs(10), |_| {
        let plans = server.get_as(&olga, "/api/operator/plans").json();
        let p = plans
            .as_array()?
            .iter()
            .find(|p| p["name"] == "support")?
            .clone();
        p["reload_error"].is_null().then_some(p)
    });
    let p = cleared.expect("the report clears once the file is valid again");
    assert_eq!(
        p["live_version_id"].as_i64(),
        Some(second),
        "same source, same version"
    );
    let versions = server.get_as(&olga, "/api/operator/plans/support").json();
    assert!(
        versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"].as_i64() == Some(second) && v["action"] == "file"),
        "{versions}"
    );
}
