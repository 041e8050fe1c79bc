//! The SIP registrar against real clients: sipp registering with MD5 digest (`-au`/`-ap`), a raw
//! socket answering the SHA-256 challenge, wrong passwords, the per-address failure limit,
//! `Expires: 0`, and no relaying of INVITEs to anything but a dialplan.

mod common;

use common::rawsip::{branch, digest_sha256, token, RawCall, SipMsg, SipSocket};
use common::server::{serial, ServerOptions, TestServer};
use common::sipp::{registrar_client, Ports};
use std::net::SocketAddr;
use std::time::Duration;

const PASSWORD: &str = "alice's phone pw";
const SEC: Duration = Duration::from_secs(1);

fn options(sip_extra: &str) -> ServerOptions {
    ServerOptions {
        users: vec![
            ("alice".into(), "agent".into(), PASSWORD.into()),
            ("olga".into(), "operator".into(), PASSWORD.into()),
        ],
        agents: vec!["alice".into()],
        sip_extra: sip_extra.into(),
        asr: Some("model = \"/nonexistent/model.bin\"".into()),
        ..ServerOptions::default()
    }
}

/// alice as the hub shows her (`/api/agents`).
fn alice_in_hub(s: &TestServer) -> serde_json::Value {
    let (code, v) = s.get("/api/agents");
    assert_eq!(code, 200, "{v}");
    v["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "alice").cloned())
        .unwrap_or_else(|| panic!("alice is not in the hub snapshot: {v}"))
}

/// A phone on a raw UDP socket.
struct Phone {
    sock: SipSocket,
    server: SocketAddr,
    call_id: String,
    cseq: u32,
    user: String,
}

impl Phone {
    fn new(server: SocketAddr, user: &str) -> Phone {
        Phone {
            sock: SipSocket::bind(),
            server,
            call_id: token("reg"),
            cseq: 0,
            user: user.into(),
        }
    }

    fn uri(&self) -> String {
        format!("sip:{}", self.server)
    }

    /// Sends a REGISTER with `extra` headers and returns the final answer.
    fn register(&mut self, extra: &str) -> SipMsg {
        self.cseq += 1;
        let (u, l) = (&self.user, self.sock.local);
        let text = format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch={b};rport\r\n\
             From: <sip:{u}@127.0.0.1>;tag={tag}\r\nTo: <sip:{u}@127.0.0.1>\r\nCall-ID: {cid}\r\n\
             CSeq: {n} REGISTER\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n",
            uri = self.uri(),
            b = branch(),
            tag = token("t"),
            cid = self.call_id,
            n = self.cseq,
        );
        self.sock.send_to(&text, self.server);
        self.sock
            .final_response(&self.call_id, "REGISTER", 5 * SEC, &mut Vec::new())
            .unwrap_or_else(|| panic!("no answer to REGISTER:\n{}", self.sock.trace()))
    }

    /// The `Authorization` header answering `challenge` (SHA-256, qop=auth) with `password`.
    fn answer_sha256(&self, challenge: &str, password: &str) -> String {
        digest_sha256(&self.user, password, challenge, "REGISTER", &self.uri())
    }

    /// REGISTER, take the SHA-256 challenge, answer it with `password` plus `extra` headers.
    fn register_sha256(&mut self, password: &str, extra: &str) -> SipMsg {
        let first = self.register(extra);
        assert_eq!(first.code(), 401, "{}", first.raw);
        let ch = first.all("WWW-Authenticate");
        assert_eq!(ch.len(), 2, "one challenge per algorithm: {}", first.raw);
        assert!(
            ch[0].contains("algorithm=SHA-256") && ch[1].contains("algorithm=MD5"),
            "SHA-256 first (RFC 8760): {ch:?}"
        );
        let auth = self.answer_sha256(ch[0], password);
        self.register(&format!("{extra}{auth}"))
    }

    fn contact(&self, expires: &str) -> String {
        format!(
            "Contact: <sip:{}@{}>{expires}\r\n",
            self.user, self.sock.local
        )
    }
}

#[test]
fn sipp_registers_with_md5_digest_and_the_hub_sees_the_phone() {
    let _g = serial();
    // SIPp 3.6.1 answers only the first challenge and knows only MD5: list MD5 first.
    let s = TestServer::start(options("digest_algorithms = [\"MD5\", \"SHA-256\"]"));
    assert_eq!(
        alice_in_hub(&s)["reach"],
        serde_json::Value::Null,
        "not reachable before"
    );
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::free();
    let r = registrar_client(dir.path(), ports, s.sip_addr(), "alice", PASSWORD, 300, 200)
        .wait(Duration::from_secs(20));
    assert!(r.passed(), "{}", r.report());
    let ok = r.first_received("SIP/2.0 200").expect("a 200 OK");
    assert!(
        ok.contains(&format!("<sip:alice@127.0.0.1:{}>;expires=300", ports.sip)),
        "the 200 lists the contact and its expiry:\n{ok}"
    );
    let a = alice_in_hub(&s);
    assert_eq!(a["reach"], "sip", "{a}");
    assert_eq!(a["status"], "ready", "{a}");
    assert!(s.log().contains("SIP phone registered"));
}

#[test]
fn sipp_with_a_wrong_password_gets_403_after_the_challenge() {
    let _g = serial();
    let s = TestServer::start(options("digest_algorithms = [\"MD5\"]"));
    let dir = tempfile::tempdir().unwrap();
    let r = registrar_client(
        dir.path(),
        Ports::free(),
        s.sip_addr(),
        "alice",
        "wrong password",
        300,
        403,
    )
    .wait(Duration::from_secs(20));
    assert!(r.passed(), "{}", r.report());
    assert!(r
        .first_received("SIP/2.0 401")
        .is_some_and(|m| m.contains("algorithm=MD5")));
    assert_eq!(alice_in_hub(&s)["reach"], serde_json::Value::Null);
}

#[test]
fn sha256_digest_registers_and_expires_zero_unregisters() {
    let _g = serial();
    let s = TestServer::start(options("register_min_expires = 60"));
    let mut phone = Phone::new(s.sip_addr(), "alice");
    let ok = phone.register_sha256(PASSWORD, &phone.contact(";expires=7200"));
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    let contact = ok.header("Contact").unwrap_or_default().to_string();
    assert!(
        contact.ends_with(";expires=3600"),
        "clamped to 3600: {contact}"
    );
    assert_eq!(alice_in_hub(&s)["reach"], "sip");

    let short = phone.register_sha256(PASSWORD, &phone.contact(";expires=5"));
    assert!(
        short
            .header("Contact")
            .unwrap_or_default()
            .ends_with(";expires=60"),
        "{}",
        short.raw
    );

    let gone = phone.register_sha256(PASSWORD, &format!("{}Expires: 0\r\n", phone.contact("")));
    assert_eq!(gone.code(), 200, "{}", gone.raw);
    assert!(
        gone.header("Contact").is_none(),
        "no binding left: {}",
        gone.raw
    );
    assert_eq!(
        alice_in_hub(&s)["reach"],
        serde_json::Value::Null,
        "unregistered"
    );

    // An operator has a password but no phone to register.
    let mut olga = Phone::new(s.sip_addr(), "olga");
    let r = olga.register_sha256(PASSWORD, &olga.contact(""));
    assert_eq!(r.code(), 403, "{}", r.raw);
}

#[test]
fn failed_attempts_from_one_address_are_rate_limited() {
    let _g = serial();
    let s = TestServer::start(options(""));
    let mut phone = Phone::new(s.sip_addr(), "alice");
    for i in 0..10 {
        let r = phone.register_sha256("a wrong guess", &phone.contact(""));
        assert_eq!(
            (r.code(), r.start.as_str()),
            (403, "SIP/2.0 403 Forbidden"),
            "failure {i}"
        );
    }
    let first = phone.register(&phone.contact(""));
    assert_eq!(
        first.code(),
        403,
        "blocked before any challenge: {}",
        first.raw
    );
    assert!(
        first.start.contains("Too many failed attempts"),
        "{}",
        first.start
    );
    let auth = phone.answer_sha256(r#"Digest realm="humanline", nonce="x""#, PASSWORD);
    let right = phone.register(&format!("{}{auth}", phone.contact("")));
    assert!(
        right.start.contains("Too many failed attempts"),
        "not even checked: {}",
        right.start
    );
    assert!(
        s.log().contains("too many failed attempts"),
        "a log line says so"
    );
    assert_eq!(alice_in_hub(&s)["reach"], serde_json::Value::Null);
}

#[test]
fn invites_to_agents_or_foreign_numbers_are_not_relayed() {
    let _g = serial();
    let s = TestServer::start(options(""));
    let mut phone = Phone::new(s.sip_addr(), "alice");
    let ok = phone.register_sha256(PASSWORD, &phone.contact(""));
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    // A foreign number is no call of ours (404); an agent's name is a consult call between
    // agents, which a stranger cannot make: challenged (401), and nothing reaches the phone.
    for (target, code) in [
        ("sip:+15551234@evil.example".to_string(), 404),
        (format!("sip:alice@{}", s.sip_addr()), 401),
        (format!("sip:alice@{}", phone.sock.local), 401),
    ] {
        let mut c = RawCall::new(s.sip_addr(), "alice");
        let text = c.invite_text();
        let (first, rest) = text.split_once("\r\n").unwrap();
        let old_uri = first.split(' ').nth(1).unwrap();
        let edited = format!("{}\r\n{rest}", first.replace(old_uri, &target));
        c.sip.send_to(&edited, s.sip_addr());
        let call_id = c.call_id.clone();
        let r = c
            .sip
            .final_response(&call_id, "INVITE", 5 * SEC, &mut Vec::new())
            .unwrap_or_else(|| panic!("no answer to INVITE {target}"));
        assert_eq!(r.code(), code, "INVITE {target}: {}", r.raw);
    }
    let leaked = phone.sock.recv(2 * SEC);
    assert!(
        leaked.is_none(),
        "nothing reaches the registered phone: {leaked:?}"
    );
    assert_eq!(s.active(), 0);
}

#[test]
fn a_register_sniffed_and_replayed_from_another_address_is_challenged_not_bound() {
    let _g = serial();
    let s = TestServer::start(options(""));
    let mut phone = Phone::new(s.sip_addr(), "alice");
    let first = phone.register(&phone.contact(""));
    assert_eq!(first.code(), 401);
    let auth = phone.answer_sha256(first.all("WWW-Authenticate")[0], PASSWORD);
    let ok = phone.register(&format!("{}{auth}", phone.contact("")));
    assert_eq!(ok.code(), 200, "{}", ok.raw);
    // The attacker copies the credentials, points the Contact at itself and sends them from
    // its own address: the nonce is not good there.
    let mut attacker = Phone::new(s.sip_addr(), "alice");
    attacker.sock = SipSocket::bind_on([127, 0, 0, 2]);
    let replay = attacker.register(&format!("{}{auth}", attacker.contact("")));
    assert_eq!(
        replay.code(),
        401,
        "the replay is challenged: {}",
        replay.raw
    );
    // Sent again from the phone's own address, the count did not move: stale.
    let again = phone.register(&format!("{}{auth}", attacker.contact("")));
    assert_eq!(again.code(), 401, "{}", again.raw);
    assert!(
        again
            .all("WWW-Authenticate")
            .iter()
            .all(|c| c.contains("stale=true")),
        "{}",
        again.raw
    );
    // Only a 200 binds a Contact: both answers were 401, so alice's phone is the one bound.
    assert_eq!(alice_in_hub(&s)["reach"], "sip");
}
