//! A request on the caller's Call-ID that is not the caller's (another address, wrong tags)
//! gets 481 where it came from and changes nothing.

use super::*;

#[test]
fn a_bye_from_another_address_gets_481_and_the_call_goes_on() {
    let mut call = Call::answered();
    let outs = call.feed(
        s(2),
        Input::Sip {
            msg: SipMessage::Request(bye(2)),
            source: "10.9.9.9:5060".parse().unwrap(),
        },
    );
    let replies: Vec<&Output> = outs
        .iter()
        .filter(|o| matches!(o, Output::ToSource(_)))
        .collect();
    assert_eq!(replies.len(), 1, "{outs:?}");
    assert!(matches!(replies[0], Output::ToSource(b) if b.starts_with(b"SIP/2.0 481")));
    assert!(outs.iter().any(|o| matches!(o, Output::Stranger { .. })));
    assert!(!outs.iter().any(|o| matches!(o, Output::ToCaller(_))));
    assert!(!call.core.is_finished());
}
