//! RFC 3261 §12: a dialog is early after a tagged provisional, confirmed by a 2xx, and over
//! after BYE or a failure; its route set and remote target come from the right message; the
//! peer's requests must not go backwards in CSeq; ours count up.

use super::*;
use crate::sip::transaction::{DialogState, InviteDialog, Role, TransactionError};
use crate::sip::LocalVia;

fn via() -> LocalVia {
    LocalVia {
        host: "10.0.0.2".into(),
        port: 5060,
        transport: "UDP".into(),
    }
}

fn with_routes(
    mut r: crate::sip::Response,
    routes: &[&str],
    contact: &str,
) -> crate::sip::Response {
    for rr in routes {
        r.headers.push("Record-Route", *rr);
    }
    r.headers.replace_all("Contact", vec![contact.to_string()]);
    r
}

#[test]
fn uac_dialog_is_early_then_confirmed_with_the_2xx_route_set() {
    let inv = invite();
    let ringing = with_routes(
        answer(&inv, 180, "peer"),
        &["<sip:p1;lr>", "<sip:p2;lr>"],
        "<sip:early@10.0.0.9>",
    );
    let mut d = InviteDialog::uac(&inv, &ringing).unwrap();
    assert_eq!((d.role(), d.state()), (Role::Uac, DialogState::Early));
    assert_eq!(d.route_set(), ["<sip:p2;lr>", "<sip:p1;lr>"], "reversed");
    assert_eq!(d.remote_target(), "sip:early@10.0.0.9");

    let ok = with_routes(
        answer(&inv, 200, "peer"),
        &["<sip:p3;lr>"],
        "<sip:final@10.0.0.9>",
    );
    d.on_invite_response(&inv, &ok);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.route_set(), ["<sip:p3;lr>"], "the 2xx's route set wins");
    assert_eq!(d.remote_target(), "sip:final@10.0.0.9");

    let id = d.id();
    assert_eq!(
        (id.local_tag.as_str(), id.remote_tag.as_str()),
        ("alicetag", "peer")
    );
    let bye = d.request(Method::Bye, &via()).unwrap().build().unwrap();
    assert_eq!(bye.uri, "sip:final@10.0.0.9");
    assert_eq!(bye.headers.cseq().unwrap().0, 2, "after the INVITE's 1");
    assert_eq!(bye.headers.get_all("Route"), ["<sip:p3;lr>"]);
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn a_failure_ends_an_early_dialog_and_no_dialog_without_a_tag() {
    let inv = invite();
    let mut d = InviteDialog::uac(&inv, &answer(&inv, 183, "peer")).unwrap();
    d.on_invite_response(&inv, &answer(&inv, 486, "peer"));
    assert_eq!(d.state(), DialogState::Terminated);
    assert!(matches!(
        d.request(Method::Bye, &via()),
        Err(TransactionError::DialogTerminated)
    ));
    let untagged = crate::sip::response_to(&inv, 180, "Ringing", None);
    assert!(InviteDialog::uac(&inv, &untagged).is_err());
    assert!(InviteDialog::uac(&inv, &answer(&inv, 100, "peer")).is_err());
    assert!(InviteDialog::uac(&inv, &answer(&inv, 404, "peer")).is_err());
}

#[test]
fn uas_dialog_refuses_out_of_order_requests_and_follows_target_refresh() {
    let inv = request(Method::Invite, "z9hG4bKinv1", 5, "UDP");
    let mut d = InviteDialog::uas(&inv, "ourtag").unwrap();
    assert_eq!(d.state(), DialogState::Early);
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_cseq(), Some(5));

    let tagged = |method: Method, cseq: u32| {
        let mut r = request(method, "z9hG4bKx", cseq, "UDP");
        r.headers
            .replace_all("To", vec!["<sip:support@127.0.0.1>;tag=ourtag".into()]);
        r
    };
    let ack = tagged(Method::Ack, 5);
    assert!(d.matches(&ack));
    assert!(d.on_request(&ack).is_ok(), "ACK does not count");

    let old = tagged(Method::Info, 4);
    let e = d.on_request(&old).unwrap_err();
    assert_eq!(e.status(), Some(500));

    let mut reinvite = tagged(Method::Invite, 6);
    reinvite
        .headers
        .replace_all("Contact", vec!["<sip:alice@10.0.0.7:5070>".into()]);
    d.on_request(&reinvite).unwrap();
    assert_eq!(
        d.remote_target(),
        "sip:alice@10.0.0.7:5070",
        "target refresh"
    );
    assert_eq!(d.remote_cseq(), Some(6));

    let info = d.request(Method::Info, &via()).unwrap().build().unwrap();
    assert_eq!(
        info.headers.cseq().unwrap().0,
        1,
        "our own count starts at 1"
    );

    d.on_request(&tagged(Method::Bye, 7)).unwrap();
    assert_eq!(d.state(), DialogState::Terminated);
    let late = d.on_request(&tagged(Method::Info, 8)).unwrap_err();
    assert_eq!(late.status(), Some(481));
}

#[test]
fn a_request_from_another_dialog_does_not_match() {
    let inv = invite();
    let d = InviteDialog::uas(&inv, "ourtag").unwrap();
    let mut other = request(Method::Bye, "z9hG4bKx", 2, "UDP");
    other
        .headers
        .replace_all("To", vec!["<sip:support@127.0.0.1>;tag=nottours".into()]);
    assert!(!d.matches(&other));
}
