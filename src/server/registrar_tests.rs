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
    challenge_nonce_for(reg, req, unix, alg, ip())
}

/// The nonce of a challenge sent to `client`.
fn challenge_nonce_for(
    reg: &Registrar,
    req: &Request,
    unix: u64,
    alg: Algorithm,
    client: IpAddr,
) -> String {
    let r = reg.response(req, &Decision::Challenge { stale: false }, unix, client);
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

/// Credentials as a phone sends them: each use of a nonce counts `nc` up.
fn authorization(nonce: &str, password: &str, alg: Algorithm) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NC: AtomicU32 = AtomicU32::new(1);
    authorization_nc(nonce, password, alg, NC.fetch_add(1, Ordering::Relaxed))
}

fn authorization_nc(nonce: &str, password: &str, alg: Algorithm, nc: u32) -> String {
    let ha1 = alg.hash_hex(&format!("alice:humanline:{password}"));
    let ha2 = alg.hash_hex(&format!("REGISTER:{URI}"));
    let resp = alg.hash_hex(&format!("{ha1}:{nonce}:{nc:08x}:c0ffee:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"alice\", realm=\"humanline\", nonce=\"{nonce}\", uri=\"{URI}\", \
         response=\"{resp}\", algorithm={}, qop=auth, nc={nc:08x}, cnonce=\"c0ffee\"\r\n",
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
    let r = reg.response(&req, &d, T0, ip());
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
        let r = reg.response(&req, &d, T0 + 1, ip());
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
    let right_from = |reg: &Registrar, from: IpAddr| {
        let nonce = challenge_nonce_for(reg, &register(""), T0, Algorithm::Md5, from);
        register(&format!(
            "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
            authorization(&nonce, "alicepassword", Algorithm::Md5)
        ))
    };
    let (a2, a3, a4): (IpAddr, IpAddr, IpAddr) = (
        "10.0.0.2".parse().unwrap(),
        "10.0.0.3".parse().unwrap(),
        "10.0.0.4".parse().unwrap(),
    );
    let right = right_from(&reg, a2);
    assert!(matches!(
        reg.decide(now, T0, &right, a2, None),
        Decision::Refuse { .. }
    ));
    let right = right_from(&reg, a3);
    assert!(matches!(
        reg.decide(now, T0, &right, a3, Some(&alice(Role::Operator))),
        Decision::Refuse { .. }
    ));
    let right = right_from(&reg, a4);
    assert!(matches!(
        reg.decide(now, T0, &right, a4, Some(&alice(Role::Supervisor))),
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
        reg.response(&right, &Decision::TooManyFailures, T0, ip())
            .reason,
        "Too many failed attempts"
    );
    let other: IpAddr = "10.1.1.1".parse().unwrap();
    let nonce_other = challenge_nonce_for(&reg, &register(""), T0, Algorithm::Md5, other);
    let right_other = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce_other, "alicepassword", Algorithm::Md5)
    ));
    assert!(matches!(
        reg.decide(t, T0, &right_other, other, a.as_ref()),
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
    let r = reg.response(&req, &Decision::Challenge { stale: true }, T0 + 301, ip());
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
    let a = Some(alice(Role::Agent));
    let mut decide = |extra: &str| {
        let auth = authorization(&nonce, "alicepassword", Algorithm::Md5);
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
    let r = reg.response(&wrong, &d, T0, ip());
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
    let r = reg.response(&req, &d, T0, ip());
    reg.answered(t, req.clone(), true, r);
    assert_eq!(
        reg.replay(t, &req),
        None,
        "TCP does not retransmit: Timer J = 0"
    );
}

#[test]
fn a_sniffed_register_replayed_is_challenged_again_from_anywhere() {
    let mut reg = registrar();
    let a = Some(alice(Role::Agent));
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Sha256);
    let sent = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization_nc(&nonce, "alicepassword", Algorithm::Sha256, 1)
    ));
    let now = Instant::now();
    assert!(matches!(
        reg.decide(now, T0, &sent, ip(), a.as_ref()),
        Decision::Register { .. }
    ));
    // The same credentials, their Contact pointed elsewhere, from another address...
    let replay = register(&format!(
        "Contact: <sip:alice@10.66.6.6:5070>\r\n{}",
        authorization_nc(&nonce, "alicepassword", Algorithm::Sha256, 1)
    ));
    assert_eq!(
        reg.decide(now, T0, &replay, "10.66.6.6".parse().unwrap(), a.as_ref()),
        Decision::Challenge { stale: false },
        "the nonce is good only where it was given"
    );
    // ... or from the phone's own address (spoofed): the count did not move.
    assert_eq!(
        reg.decide(now, T0, &replay, ip(), a.as_ref()),
        Decision::Challenge { stale: true }
    );
    // The phone itself counts up and is accepted.
    let next = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization_nc(&nonce, "alicepassword", Algorithm::Sha256, 2)
    ));
    assert!(matches!(
        reg.decide(now, T0, &next, ip(), a.as_ref()),
        Decision::Register { .. }
    ));
}

#[test]
fn failures_for_one_user_do_not_lock_out_others_behind_the_same_address() {
    let mut reg = registrar();
    let t = Instant::now();
    let nonce = challenge_nonce(&reg, &register(""), T0, Algorithm::Md5);
    // Guesses for a name that does not exist, from the call centre's address.
    let mut bob = register(&authorization(&nonce, "guess", Algorithm::Md5));
    bob.headers = parse(
        String::from_utf8_lossy(&bob.to_bytes())
            .replace("sip:alice@", "sip:bob@")
            .replace("username=\"alice\"", "username=\"bob\"")
            .as_bytes(),
    )
    .map(|m| match m {
        SipMessage::Request(r) => r.headers,
        SipMessage::Response(_) => unreachable!(),
    })
    .unwrap();
    for _ in 0..5 {
        let d = reg.decide(t, T0, &bob, ip(), None);
        assert!(
            matches!(d, Decision::Refuse { .. } | Decision::TooManyFailures),
            "{d:?}"
        );
    }
    let right = register(&format!(
        "Contact: <sip:alice@127.0.0.1:5070>\r\n{}",
        authorization(&nonce, "alicepassword", Algorithm::Md5)
    ));
    assert!(matches!(
        reg.decide(t, T0, &right, ip(), Some(&alice(Role::Agent))),
        Decision::Register { .. }
    ));
}
