//! `humanline.toml` loading: defaults, locations in errors, the cross-key rules.

use super::*;

#[test]
fn auto_workers_fill_the_cores_at_the_configured_threads() {
    let mut a = AsrConfig::default();
    assert_eq!(a.worker_count(2), 1, "2 threads each on 2 cores");
    assert_eq!(a.worker_count(8), 4);
    assert_eq!(a.worker_count(1), 1, "never none");
    a.threads = 1;
    assert_eq!(a.worker_count(2), 2);
    a.workers = 3;
    assert_eq!(a.worker_count(2), 3, "an explicit count is kept");
}

#[test]
fn the_shipped_config_parses_and_defaults_need_no_file() {
    let c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/humanline.toml"
    )))
    .unwrap();
    assert!(c.queues.contains_key("support"));
    assert_eq!(c.elderly.pacing(), crate::media::Pacing::default());
    let d = Config::default();
    assert_eq!(d.sip.bind.port(), 5060);
    assert_eq!(d.http.bind.port(), 8080);
}

#[test]
fn a_queue_requiring_srtp_needs_tls_and_tls_static_agents() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.toml");
    let queue = "[queues.billing]\nrequire_srtp = true\nagents = [\"alice\"";
    std::fs::write(&p, format!("{queue}]\n")).unwrap();
    let e = Config::load(&p).unwrap_err().to_string();
    assert!(e.contains("billing") && e.contains("tls_bind"), "{e}");
    let tls = "[sip]\ntls_bind = \"127.0.0.1:5061\"\n";
    std::fs::write(&p, format!("{tls}{queue}, \"sip:desk@192.0.2.1\"]\n")).unwrap();
    let e = Config::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("sip:desk@192.0.2.1") && e.contains("transport=tls"),
        "{e}"
    );
    std::fs::write(&p, format!("{tls}{queue}, \"sips:desk@192.0.2.1\"]\n")).unwrap();
    let c = Config::load(&p).unwrap();
    assert!(c.queues["billing"].require_srtp);
}

#[test]
fn a_queue_offering_callbacks_names_a_configured_trunk() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.toml");
    let queue = "[queues.support]\nagents = [\"alice\"]\noffer_callback_after_seconds = 120\n";
    std::fs::write(&p, queue).unwrap();
    let e = Config::load(&p).unwrap_err().to_string();
    assert!(e.contains("support") && e.contains("callback_trunk"), "{e}");
    std::fs::write(&p, format!("{queue}callback_trunk = \"carrier\"\n")).unwrap();
    let e = Config::load(&p).unwrap_err().to_string();
    assert!(e.contains("[trunks.carrier]"), "{e}");
    let trunk = "[trunks.carrier]\nproxy = \"192.0.2.9:5060\"\ncaller_id = \"+15550001111\"\n";
    std::fs::write(&p, format!("{queue}callback_trunk = \"carrier\"\n{trunk}")).unwrap();
    let c = Config::load(&p).unwrap();
    let q = &c.queues["support"];
    assert_eq!(
        (q.callback_attempts, q.callback_retry_seconds),
        (3, 120.0),
        "defaults"
    );
}

#[test]
fn unknown_keys_are_refused_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.toml");
    std::fs::write(&p, "[sip]\nbindd = \"1.2.3.4:5\"\n").unwrap();
    let e = Config::load(&p).unwrap_err().to_string();
    assert!(e.contains("h.toml:2:1") && e.contains("bindd"), "{e}");
}
