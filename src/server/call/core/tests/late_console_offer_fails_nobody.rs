//! A console agent's WebRTC offer is made beside the call and may come back after the
//! hand-off moved on (the agent's ring timed out meanwhile): its failure then fails nobody,
//! while a failure for the agent still being rung ends that ring at once.

use super::*;

/// The support queue offers `name`'s browser console at `at`: the shell is asked to dial it.
fn offer_console(call: &mut Call, at: Duration, name: &str) {
    let outs = call.feed(
        at,
        Input::Offered {
            agent: name.into(),
            reach: Reach::Browser,
            skipped: Vec::new(),
        },
    );
    assert!(
        outs.contains(&Output::DialBrowser { agent: name.into() }),
        "{outs:?}"
    );
    assert!(call.core.rings(name));
}

#[test]
fn a_failed_offer_for_the_console_being_rung_ends_its_ring() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    offer_console(&mut call, s(1), "carol");
    let outs = call.feed(
        ms(1200),
        Input::DialFailed {
            agent: "carol".into(),
            why: "no console open".into(),
        },
    );
    assert!(!call.core.rings("carol"));
    assert!(call.events().contains(&"agent_failed"));
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::RingEnded { agent, .. } if agent == "carol")),
        "{outs:?}"
    );
}

#[test]
fn a_failed_offer_that_comes_back_after_the_ring_timed_out_changes_nothing() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    offer_console(&mut call, s(1), "carol");
    // The offer takes longer than the 20 s ring: the hand-off gives up on carol…
    call.caller_audio_until(s(22));
    assert!(!call.core.rings("carol"));
    // …and dave is rung when the late answer for carol arrives.
    offer_console(&mut call, s(23), "dave");
    let before = call.events().len();
    let outs = call.feed(
        s(24),
        Input::DialFailed {
            agent: "carol".into(),
            why: "the offer took too long".into(),
        },
    );
    assert!(outs.is_empty(), "{outs:?}");
    assert_eq!(call.events().len(), before, "nothing stored");
    assert!(call.core.rings("dave"), "dave still rings");
}
