//! The registrar's rules on fake time: challenge, accept, refuse, stale nonces, rate limit,
//! expiry clamping and removal.

use super::registrar::{Account, Decision, Registrar, MAX_EXPIRES};
use crate::auth::{sip_ha1, Role};
use crate::config::SipConfig;
use crate::sip::digest::{parse_authorization, Algorithm};
use crate::sip::{parse, Request, SipMessage};
use std::net::IpAddr;
use std::time::{Duration, Instant};

const URI: &str = "sip:127.0.0.1:5060";
const T0: u64 = 1_800_000_000;

fn registrar() -> Registrar {
    let cfg = SipConfig {
        register_min_expires: 60,
        register_max_failures: 3,
        ..SipConfig::default()
    };
    Registrar::new(&cfg, [9; 32])
}

fn alice(role: Role) -> Account {
    let (ha1_md5, ha1_sha256) = sip_ha1("alice", "humanline", "alicepassword");
    Account {
        name: "alice".into(),
        role,
        realm: "humanline".into(),
        ha1_md5,
        ha1_sha256,
    }
}

fn register(extra: &str) -> Request {
    let text = format!(
        "REGISTER {URI} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr1\r\n\
         From: <sip:alice@127.0.0.1>;tag=f1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: reg-1\r\n\
         CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    match parse(text.as_bytes()).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => unreachable!(),
    }
}

/// The nonce of the challenge for `algorithm` in a 401.
fn challenge_nonce(reg: &Registrar, req: &Request, unix: u64, alg: Algorithm) -> String {
    let r = reg.response(req, &Decision::Challenge { stale: false }, unix);
    assert_eq!(r.status, 401);
    let h = r
        .headers
        .get_all("WWW-Authenticate")
        .into_iter()
        .find(|h| h.contains(&format!("algorithm={},", alg.name())))
        .unwrap()
        .to_string();
    h.split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

fn authorization(nonce: &str, password: &str, alg: Algorithm) -> String {
    let ha1 = alg.hash_hex(&format!("alice:humanline:{password}"));
    let ha2 = alg.hash_hex(&format!("REGISTER:{URI}"));
    let resp = alg.hash_hex(&format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"alice\", realm=\"humanline\", nonce=\"{nonce}\", uri=\"{URI}\", \
         response=\"{resp}\", algorithm={}, qop=auth, nc=00000001, cnonce=\"c0ffee\"\r\n",
        alg.name()
    )
}

fn ip() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

#[test]
fn unauthenticated_register_is_challenged_sha256_first_then_md5() {
    let mut reg = registrar();
    let req = register("Contact: <sip:alice@127.0.0.1:5070>\r\n");
    let now = Instant::now();
    let d = reg.decide(now, T0, &req, ip(), Some(&alice(Role::Agent)));
    assert_eq!(d, Decision::Challenge { stale: false });
    let r = reg.response(&req, &d, T0);
    let ch = r.headers.get_all("WWW-Authenticate");
    assert_eq!(ch.len(), 2);
    assert!(
        ch[0].contains("algorithm=SHA-256") && ch[1].contains("algorithm=MD5"),
        "{ch:?}"
    );
    assert!(ch
        .iter()
        .all(|c| c.contains("qop=\"auth\"") && c.contains("realm=\"humanline\"")));
}

#[test]
fn right_password_registers_with_sha256_and_md5() {
    for alg in [Algorithm::Sha256, Algorithm::Md5] {
        let mut reg = registrar();
        let probe = register("");
        let nonce = challenge_nonce(&reg, &probe, T0, alg);
        let req = register(&format!(
            "Contact: <sip:alice@127.0.0.1:5070>\r\nExpires: 600\r\n{}",
            authorization(&nonce, "alicepassword", alg)
        ));
        let d = reg.decide(
            Instant::now(),
            T0 + 1,
            &req,
            ip(),
            Some(&alice(Role::Agent)),
        );
        assert_eq!(
            d,
            Decision::Register {
                name: "alice".into(),
                contact: "sip:alice@127.0.0.1:5070".into(),
                expires: 600
            },
            "{alg:?}"
        );
        let r = reg.response(&req, &d, T0 + 1);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers.get("Contact"),
            Some("<sip:alice@127.0.0.1:5070>;expires=600")
        );
    }
}

#[test]
fn wrong_password_unknown_user_and_operator_are_refused() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    let now = Instant::now();
    let wrong = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce, "guess", Algorithm::Md5)
    ));
    assert!(matches!(
        reg.decide(now, T0, &wrong, ip(), Some(&alice(Role::Agent))),
        Decision::Refuse { .. }
    ));
    let right = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce, "alicepassword", Algorithm::Md5)
    ));
    assert!(matches!(
        reg.decide(now, T0, &right, "10.0.0.2".parse().unwrap(), None),
        Decision::Refuse { .. }
    ));
    assert!(matches!(
        reg.decide(
            now,
            T0,
            &right,
            "10.0.0.3".parse().unwrap(),
            Some(&alice(Role::Operator))
        ),
        Decision::Refuse { .. }
    ));
    assert!(matches!(
        reg.decide(
            now,
            T0,
            &right,
            "10.0.0.4".parse().unwrap(),
            Some(&alice(Role::Supervisor))
        ),
        Decision::Register { .. }
    ));
}

#[test]
fn failures_per_ip_block_even_the_right_password_until_the_window_passes() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    let wrong = register(&authorization(&nonce, "guess", Algorithm::Md5));
    let right = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce, "alicepassword", Algorithm::Md5)
    ));
    let a = Some(alice(Role::Agent));
    let t = Instant::now();
    for _ in 0..3 {
        assert!(matches!(
            reg.decide(t, T0, &wrong, ip(), a.as_ref()),
            Decision::Refuse { .. }
        ));
    }
    assert_eq!(
        reg.decide(t, T0, &right, ip(), a.as_ref()),
        Decision::TooManyFailures
    );
    assert_eq!(
        reg.response(&right, &Decision::TooManyFailures, T0).reason,
        "Too many failed attempts"
    );
    let other: IpAddr = "10.1.1.1".parse().unwrap();
    assert!(matches!(
        reg.decide(t, T0, &right, other, a.as_ref()),
        Decision::Register { .. }
    ));
    let later = t + Duration::from_secs(61);
    assert!(matches!(
        reg.decide(later, T0 + 61, &right, ip(), a.as_ref()),
        Decision::Register { .. }
    ));
}

#[test]
fn old_nonce_is_stale_and_foreign_nonce_is_rechallenged() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Sha256);
    let req = register(&authorization(&nonce, "alicepassword", Algorithm::Sha256));
    let a = Some(alice(Role::Agent));
    assert_eq!(
        reg.decide(Instant::now(), T0 + 301, &req, ip(), a.as_ref()),
        Decision::Challenge { stale: true }
    );
    let r = reg.response(&req, &Decision::Challenge { stale: true }, T0 + 301);
    assert!(r
        .headers
        .get_all("WWW-Authenticate")
        .iter()
        .all(|h| h.contains("stale=true")));
    let forged = register(&authorization(
        "5f.0000",
        "alicepassword",
        Algorithm::Sha256,
    ));
    assert_eq!(
        reg.decide(Instant::now(), T0, &forged, ip(), a.as_ref()),
        Decision::Challenge { stale: false }
    );
}

#[test]
fn expiry_is_clamped_and_zero_or_star_unregisters() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    let auth = authorization(&nonce, "alicepassword", Algorithm::Md5);
    let a = Some(alice(Role::Agent));
    let mut decide = |extra: &str| {
        let req = register(&format!("{extra}{auth}"));
        reg.decide(Instant::now(), T0, &req, ip(), a.as_ref())
    };
    let expires = |d: Decision| match d {
        Decision::Register { expires, .. } => expires,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        expires(decide("Contact: <sip:alice@h>\r\nExpires: 5\r\n")),
        60
    );
    assert_eq!(
        expires(decide("Contact: <sip:alice@h>\r\nExpires: 99999\r\n")),
        MAX_EXPIRES
    );
    assert_eq!(expires(decide("Contact: <sip:alice@h>\r\n")), MAX_EXPIRES);
    assert_eq!(
        expires(decide(
            "Contact: <sip:alice@h>;expires=120\r\nExpires: 900\r\n"
        )),
        120,
        "the Contact parameter wins"
    );
    let gone = Decision::Unregister {
        name: "alice".into(),
    };
    assert_eq!(decide("Contact: <sip:alice@h>;expires=0\r\n"), gone);
    assert_eq!(decide("Contact: <sip:alice@h>\r\nExpires: 0\r\n"), gone);
    assert_eq!(decide("Contact: *\r\nExpires: 0\r\n"), gone);
    assert!(matches!(decide("Contact: *\r\n"), Decision::BadRequest(_)));
    assert_eq!(decide(""), Decision::Query);
}

#[test]
fn credentials_for_another_user_or_uri_do_not_count() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    let auth = authorization(&nonce, "alicepassword", Algorithm::Md5).replace(URI, "sip:other");
    let req = register(&format!("Contact: <sip:alice@h>\r\n{auth}"));
    let d = reg.decide(Instant::now(), T0, &req, ip(), Some(&alice(Role::Agent)));
    assert!(matches!(d, Decision::Refuse { .. }), "{d:?}");
    // The header parses; the check is what refuses.
    assert!(parse_authorization(auth.trim_start_matches("Authorization: ").trim_end()).is_ok());
}

/// `req` as a new transaction: another Via branch.
fn with_branch(mut req: Request, branch: &str) -> Request {
    req.headers.replace_all(
        "Via",
        vec![format!("SIP/2.0/UDP 127.0.0.1:5070;branch={branch}")],
    );
    req
}

#[test]
fn retransmitted_register_gets_the_same_answer_and_counts_one_failure() {
    let mut reg = registrar();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    let wrong = register(&authorization(&nonce, "guess", Algorithm::Md5));
    let a = Some(alice(Role::Agent));
    let t = Instant::now();
    assert_eq!(reg.replay(t, &wrong), None, "a new REGISTER is decided");
    let d = reg.decide(t, T0, &wrong, ip(), a.as_ref());
    let r = reg.response(&wrong, &d, T0);
    let first = reg.answered(t, wrong.clone(), false, r);
    assert!(String::from_utf8_lossy(&first).starts_with("SIP/2.0 403"));

    // The phone did not hear the 403 and retransmits (RFC 3261 §17.2.2, Timer J).
    for n in 1..=4u64 {
        let again = reg.replay(t + Duration::from_millis(500 * n), &wrong);
        assert_eq!(again, Some(vec![first.clone()]), "retransmission {n}");
    }
    // Counted once: two more failures are allowed before the limit of 3.
    let right = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce, "alicepassword", Algorithm::Md5)
    ));
    for b in ["z9hG4bKw2", "z9hG4bKw3"] {
        let w = with_branch(wrong.clone(), b);
        assert!(matches!(
            reg.decide(t, T0, &w, ip(), a.as_ref()),
            Decision::Refuse { .. }
        ));
    }
    assert_eq!(
        reg.decide(t, T0, &with_branch(right, "z9hG4bKr4"), ip(), a.as_ref()),
        Decision::TooManyFailures,
        "the third distinct failure hits the limit; retransmissions did not"
    );

    // After 64·T1 the transaction is gone: the same bytes would be a new REGISTER.
    assert_eq!(reg.replay(t + Duration::from_secs(40), &wrong), None);
}

#[test]
fn a_register_over_tcp_keeps_no_transaction() {
    let mut reg = registrar();
    let req = register("");
    let t = Instant::now();
    let d = reg.decide(t, T0, &req, ip(), None);
    let r = reg.response(&req, &d, T0);
    reg.answered(t, req.clone(), true, r);
    assert_eq!(
        reg.replay(t, &req),
        None,
        "TCP does not retransmit: Timer J = 0"
    );
}
