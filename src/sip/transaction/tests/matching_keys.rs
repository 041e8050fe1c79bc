//! RFC 3261 §17.1.3 and §17.2.3: which transaction a message belongs to.

use super::*;
use crate::sip::transaction::{ClientKey, ServerKey};
use crate::sip::{ack_for_failure, cancel_for};

#[test]
fn server_key_is_branch_sent_by_and_method() {
    let inv = invite();
    let key = ServerKey::of(&inv).unwrap();
    assert_eq!(key.branch, "z9hG4bKinv1");
    assert_eq!(key.sent_by, "10.0.0.2:5060");
    assert_eq!(key.method, Method::Invite);

    let mut elsewhere = inv.clone();
    elsewhere.headers.replace_all(
        "Via",
        vec!["SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKinv1".into()],
    );
    assert_ne!(ServerKey::of(&elsewhere).unwrap(), key, "another sender");
}

#[test]
fn ack_for_a_failure_matches_its_invite_and_cancel_does_not() {
    let inv = invite();
    let key = ServerKey::of(&inv).unwrap();
    let ack = ack_for_failure(&inv, &answer(&inv, 486, "t")).unwrap();
    assert_eq!(ServerKey::of(&ack).unwrap(), key, "ACK folds into INVITE");
    let cancel = ServerKey::of(&cancel_for(&inv).unwrap()).unwrap();
    assert_ne!(cancel, key);
    assert_eq!(cancel.cancelled_invite(), Some(key.clone()));
    assert_eq!(key.cancelled_invite(), None, "only a CANCEL cancels");
}

#[test]
fn a_port_less_sent_by_is_5060() {
    let mut inv = invite();
    inv.headers.replace_all(
        "Via",
        vec!["SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKinv1".into()],
    );
    assert_eq!(
        ServerKey::of(&inv).unwrap(),
        ServerKey::of(&invite()).unwrap()
    );
}

#[test]
fn rfc2543_requests_are_keyed_by_call_id_cseq_and_from_tag() {
    let a = request(Method::Register, "oldstyle1", 5, "UDP");
    let b = request(Method::Register, "oldstyle2", 5, "UDP");
    let c = request(Method::Register, "oldstyle1", 6, "UDP");
    let (ka, kb, kc) = (
        ServerKey::of(&a).unwrap(),
        ServerKey::of(&b).unwrap(),
        ServerKey::of(&c).unwrap(),
    );
    assert_eq!(ka, kb, "the branch of an RFC 2543 peer means nothing");
    assert_ne!(ka, kc, "a new CSeq is a new request");
}

#[test]
fn client_key_is_branch_and_cseq_method() {
    let inv = invite();
    let key = ClientKey::of_request(&inv).unwrap();
    assert_eq!(
        ClientKey::of_response(&answer(&inv, 180, "t")).unwrap(),
        key
    );
    let cancel = cancel_for(&inv).unwrap();
    let cancel_ok = answer(&cancel, 200, "t");
    assert_ne!(
        ClientKey::of_response(&cancel_ok).unwrap(),
        key,
        "the 200 to our CANCEL is not an answer to the INVITE"
    );
}
