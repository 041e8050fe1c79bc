//! The HTTP API over a real socket: health, metrics, and call data only with the bearer token.

mod common;

use humanline::http::{router, AppState};
use humanline::live::{LiveCall, LiveCalls};
use humanline::metrics::Metrics;
use humanline::store::{CallRecord, Store};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    let status = buf
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn call_data_needs_the_token_health_and_metrics_do_not() {
    let mut store = Store::open_in_memory().unwrap();
    let plan = common::demo_plan("support");
    let v = store.save_version(&plan).unwrap();
    let r = common::run_demo("support", "say I want a real person");
    store
        .record_call(&CallRecord {
            id: "stored-1".into(),
            channel: "sip".into(),
            caller: Some("sip:alice@127.0.0.1".into()),
            dialplan_version_id: v.id,
            started_at_ms: 1,
            duration_ms: 2,
            outcome: r.outcome.clone(),
            context: r.context.clone(),
            events: vec![],
            recording_path: None,
            leg: Default::default(),
        })
        .unwrap();
    let live = Arc::new(LiveCalls::default());
    live.upsert(LiveCall {
        id: "live-1".into(),
        sip_call_id: "abc".into(),
        caller: "sip:bob@127.0.0.1".into(),
        channel: humanline::live::Channel::Sip,
        dialplan: "support".into(),
        dialplan_version_id: 1,
        state: humanline::live::CallState::Ivr,
        node: "billing".into(),
        path: vec!["welcome".into(), "menu".into(), "billing".into()],
        dtmf: "1".into(),
        reason: None,
        agent: None,
        started_at_ms: 5,
        pop: None,
        monitor: None,
    });
    let store = humanline::store::StoreHandle::single(store);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = AppState {
        live,
        metrics: Arc::new(Metrics::default()),
        plans: Arc::new(humanline::plans::PlanCache::new(
            repo.join("dialplans"),
            repo.join("prompts"),
            store.clone(),
        )),
        prompts: Arc::new(humanline::media::PromptCache::new(repo.join("prompts"))),
        store,
        agents: Arc::new(humanline::agents::AgentHub::new(
            &humanline::config::Config::default(),
        )),
        token: Arc::new("s3cret".into()),
        web: Arc::new(humanline::http::WebAuth::new(
            &humanline::config::Config::default(),
        )),
        phone: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    assert_eq!(get(addr, "/healthz", None).await.0, 200);
    let (code, metrics) = get(addr, "/metrics", None).await;
    assert_eq!(code, 200);
    assert!(metrics.contains("humanline_active_calls 1"), "{metrics}");

    for path in ["/api/calls", "/api/calls/stored-1", "/api/calls/live-1"] {
        assert_eq!(get(addr, path, None).await.0, 401, "{path} without a token");
        assert_eq!(
            get(addr, path, Some("wrong")).await.0,
            401,
            "{path} with a wrong token"
        );
        assert_eq!(
            get(addr, path, Some("s3cret!")).await.0,
            401,
            "{path} with a longer token"
        );
    }
    let (code, body) = get(addr, "/api/calls/stored-1", Some("s3cret")).await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["call"]["reason"], "human_request");
    assert!(v["call"]["turns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["text"] == "I want a real person"));
    let (_, body) = get(addr, "/api/calls/live-1", Some("s3cret")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["call"]["node"], "billing");
    let (_, body) = get(addr, "/api/calls", Some("s3cret")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["active"], 1);
    assert_eq!(v["recent"][0]["id"], "stored-1");
    assert_eq!(get(addr, "/api/calls/nope", Some("s3cret")).await.0, 404);
}
