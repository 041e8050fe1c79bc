//! A trunk's registration on fake time: challenged once then bound, refreshed halfway, the
//! credentials refused, no answer at all — and tried again after each failure.

use super::*;
use crate::sip::digest::{parse_authorization, Algorithm};
use crate::sip::digest_client::Credentials;
use crate::sip::{parse, response_to, SipMessage};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn trunk() -> Trunk {
    Trunk {
        name: "carrier".into(),
        proxy: "sip:192.0.2.10:5080".into(),
        domain: "carrier.example".into(),
        credentials: Some(Credentials {
            username: "acct".into(),
            password: "s3cret".into(),
        }),
        caller_id: "sip:+15550001111@carrier.example".into(),
        tls: false,
        register_expires: Some(120),
    }
}

fn reg() -> Registration {
    Registration::new(
        &trunk(),
        LocalVia {
            host: "127.0.0.1".into(),
            port: 5060,
            transport: "UDP".into(),
        },
    )
}

fn request(bytes: &[u8]) -> Request {
    match parse(bytes).unwrap() {
        SipMessage::Request(r) => r,
        _ => panic!("not a request"),
    }
}

fn challenge(req: &Request) -> Response {
    let mut r = response_to(req, 401, "Unauthorized", Some("reg"));
    r.headers.push(
        "WWW-Authenticate",
        r#"Digest realm="carrier", nonce="n1", algorithm=MD5, qop="auth""#,
    );
    r
}

fn ok(req: &Request, expires: u32) -> Response {
    let mut r = response_to(req, 200, "OK", Some("reg"));
    r.headers.push(
        "Contact",
        format!("<sip:acct@127.0.0.1:5060>;expires={expires}"),
    );
    r
}

/// Sends the first REGISTER, answers its challenge: returns the authenticated one.
fn challenged_once(reg: &mut Registration, at: Duration) -> Request {
    let (send, ev) = reg.poll(at);
    assert_eq!(ev, None);
    let first = request(&send[0]);
    let (send, ev) = reg.on_response(at, &challenge(&first));
    assert_eq!(ev, None, "a challenge is answered, not a failure");
    let second = request(&send[0]);
    assert_eq!(second.headers.call_id(), first.headers.call_id());
    assert_eq!(
        second.headers.cseq().unwrap().0,
        first.headers.cseq().unwrap().0 + 1
    );
    second
}

#[test]
fn a_register_is_challenged_answered_and_bound_then_refreshed_halfway() {
    let mut reg = reg();
    let (send, _) = reg.poll(Duration::ZERO);
    let first = request(&send[0]);
    assert_eq!(first.method, Method::Register);
    assert_eq!(first.uri, "sip:carrier.example");
    assert_eq!(first.headers.to().unwrap().uri, "sip:acct@carrier.example");
    assert_eq!(first.headers.get("Expires"), Some("120"));
    assert_eq!(reg.call_id(), first.headers.call_id().unwrap());

    let mut reg = self::reg();
    let second = challenged_once(&mut reg, Duration::ZERO);
    let auth = parse_authorization(second.headers.get("Authorization").unwrap()).unwrap();
    assert_eq!(auth.uri, "sip:carrier.example");
    assert!(auth.verify("REGISTER", &Algorithm::Md5.hash_hex("acct:carrier:s3cret")));

    // The registrar grants 60 s of the 120 asked: refreshed at 30 s.
    let (_, ev) = reg.on_response(s(1), &ok(&second, 60));
    assert_eq!(ev, Some(RegEvent::Registered(s(60))));
    assert_eq!(reg.state(), RegState::Registered { until: s(61) });
    let (send, ev) = reg.poll(s(6));
    assert!(
        send.is_empty() && ev.is_none(),
        "Timer K ends the transaction quietly"
    );
    assert_eq!(reg.deadline(), Some(s(31)));
    let (send, ev) = reg.poll(s(30));
    assert!(
        send.is_empty() && ev.is_none(),
        "nothing before the refresh"
    );
    let (send, _) = reg.poll(s(31));
    let refresh = request(&send[0]);
    assert_eq!(refresh.headers.call_id(), second.headers.call_id());
    assert!(refresh.headers.cseq().unwrap().0 > second.headers.cseq().unwrap().0);
    // Still bound while the refresh is under way.
    assert!(matches!(reg.state(), RegState::Registered { .. }));
}

#[test]
fn refused_credentials_are_a_failure_tried_again_later() {
    let mut reg = reg();
    let second = challenged_once(&mut reg, Duration::ZERO);
    let mut again = challenge(&second);
    again.headers.set(
        "WWW-Authenticate",
        r#"Digest realm="carrier", nonce="n2", algorithm=MD5, qop="auth""#,
    );
    let (send, ev) = reg.on_response(s(1), &again);
    assert_eq!(ev, Some(RegEvent::Failed(401)));
    assert!(send.is_empty(), "no third REGISTER");
    assert_eq!(reg.state(), RegState::Failed(401));
    assert_eq!(reg.deadline(), Some(s(1) + RETRY));
    let (send, _) = reg.poll(s(1) + RETRY);
    assert_eq!(request(&send[0]).method, Method::Register, "tried again");
}

#[test]
fn a_registrar_that_never_answers_is_a_failure_after_timer_f() {
    let mut reg = reg();
    reg.poll(Duration::ZERO);
    let mut event = None;
    let mut t = Duration::ZERO;
    while event.is_none() && t < s(60) {
        t = reg.deadline().unwrap();
        event = reg.poll(t).1;
    }
    assert_eq!(event, Some(RegEvent::Failed(0)));
    assert_eq!(t, s(32), "Timer F is 64·T1");
}

#[test]
fn interval_too_brief_asks_again_with_min_expires() {
    let mut reg = reg();
    let (send, _) = reg.poll(Duration::ZERO);
    let first = request(&send[0]);
    let mut brief = response_to(&first, 423, "Interval Too Brief", Some("reg"));
    brief.headers.push("Min-Expires", "3600");
    let (send, ev) = reg.on_response(Duration::ZERO, &brief);
    assert_eq!(ev, None);
    assert_eq!(request(&send[0]).headers.get("Expires"), Some("3600"));
}

#[test]
fn health_renders_per_trunk() {
    let h = Health::default();
    let mut o = String::new();
    h.render(&mut o);
    assert!(o.is_empty(), "nothing without registering trunks");
    h.note("carrier", &RegEvent::Failed(401));
    h.note("carrier", &RegEvent::Registered(s(60)));
    h.render(&mut o);
    assert!(
        o.contains("humanline_trunk_registered{trunk=\"carrier\"} 1"),
        "{o}"
    );
    assert!(
        o.contains("humanline_trunk_register_failures_total{trunk=\"carrier\"} 1"),
        "{o}"
    );
}
