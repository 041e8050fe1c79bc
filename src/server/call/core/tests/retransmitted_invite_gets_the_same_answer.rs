//! A retransmitted INVITE is the same call: it gets the last answer again (180 while ringing,
//! the 200 after), with the same To tag, and never a second answer or a second start.

use super::*;

fn to_tag(m: &SipMessage) -> Option<String> {
    match m {
        SipMessage::Response(r) => r.headers.to().ok()?.tag().map(str::to_string),
        _ => None,
    }
}

#[test]
fn while_ringing_and_after_the_answer_the_same_response_goes_again() {
    let mut call = Call::new(s(2));
    let first = to_caller(&call.outputs(|_| true));
    assert_eq!(statuses(&first), [100, 180]);
    let outs = call.caller_sends(ms(500), invite());
    let again = to_caller(&outs);
    assert_eq!(statuses(&again), [180]);
    assert_eq!(again[0], first[1], "the same 180");

    let answered = to_caller(&call.run_until(s(2)));
    assert_eq!(statuses(&answered), [200]);
    let outs = call.caller_sends(ms(2100), invite());
    let again = to_caller(&outs);
    assert_eq!(again, answered, "the same 200");
    let tags: std::collections::BTreeSet<_> = to_caller(&call.outputs(|_| true))
        .iter()
        .filter_map(to_tag)
        .collect();
    assert_eq!(tags.len(), 1, "one dialog: {tags:?}");
    assert_eq!(call.outputs(|o| *o == Output::Answered).len(), 1);
}
