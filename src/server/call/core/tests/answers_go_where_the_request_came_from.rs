//! Behind a proxy that does not stay in the path (Kamailio without Record-Route), the
//! caller's INVITE comes from the proxy but its BYE straight from the phone: the BYE's 200
//! goes back where the BYE came from, not to the proxy.

use super::*;

#[test]
fn a_bye_from_another_port_of_the_caller_is_answered_there() {
    let mut call = Call::answered();
    let outs = call.feed(
        s(2),
        Input::Sip {
            msg: SipMessage::Request(bye(2)),
            source: "10.0.0.2:47017".parse().unwrap(),
        },
    );
    let back: Vec<&Output> = outs
        .iter()
        .filter(|o| matches!(o, Output::ToSource(b) if b.starts_with(b"SIP/2.0 200")))
        .collect();
    assert_eq!(back.len(), 1, "{outs:?}");
    assert!(!outs.iter().any(|o| matches!(o, Output::ToCaller(_))));
    assert_eq!(call.ending().expect("ended").why, "caller hung up");
}
