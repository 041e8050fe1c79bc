//! The callback offer on fake time: a queue nobody staffs offers it at once; a staffed one
//! when the estimate is long. Key 1 books it to the caller ID's number (the From user), 3 or
//! 1 without a number asks for one to be keyed and #; 2, "no" or silence keeps the caller
//! waiting; "yes" books it. The line hangs up after the confirmation has played.

use super::*;

fn callback_rules() -> handoff::Rules {
    handoff::Rules {
        callback_after: Some(s(60)),
        ..rules()
    }
}

fn booked(outs: &[Output]) -> Option<(String, Option<Duration>)> {
    outs.iter().find_map(|o| match o {
        Output::BookCallback {
            number, queued_at, ..
        } => Some((number.clone(), *queued_at)),
        _ => None,
    })
}

fn offered(outs: &[Output]) -> Option<(Option<String>, bool)> {
    outs.iter().find_map(|o| match o {
        Output::OfferCallback { number, keying } => Some((number.clone(), *keying)),
        _ => None,
    })
}

fn utterance(text: &str) -> Input {
    Input::Engine(Event::Utterance(engine::Utterance {
        text: text.into(),
        ..Default::default()
    }))
}

#[test]
fn an_unstaffed_queue_offers_a_callback_and_keys_book_it_then_the_line_hangs_up() {
    let mut call = Call::answered_with(callback_rules());
    let outs = call.zero_out(ms(500), false);
    assert!(
        !outs.contains(&Output::StartMessage),
        "offer first: {outs:?}"
    );
    // The test caller's From is sip:alice@…: no number, so 1 asks for one.
    assert_eq!(offered(&outs), Some((None, false)), "{outs:?}");
    assert!(call.core.listens_for_callback());
    let outs = call.feed(s(3), Input::Digit('1'));
    assert_eq!(
        offered(&outs),
        Some((None, true)),
        "asks for the number: {outs:?}"
    );
    for d in "55501".chars() {
        call.feed(s(4), Input::Digit(d));
    }
    call.feed(s(5), Input::Digit('*'));
    let mut outs = Vec::new();
    for d in "5550100#".chars() {
        outs.extend(call.feed(s(6), Input::Digit(d)));
    }
    assert_eq!(booked(&outs), Some(("5550100".into(), None)), "{outs:?}");
    assert!(!call.core.listens_for_callback());
    assert!(call.events().contains(&"callback_booked"));
    // The confirmation plays 7 s; the line hangs up after it, not before.
    call.feed(s(7), Input::CallbackConfirming(s(7)));
    let before = call.caller_audio_until(ms(13_900));
    assert!(to_caller(&before).is_empty(), "{before:?}");
    let outs = call.caller_audio_until(s(15));
    assert_eq!(methods(&to_caller(&outs))[0], Method::Bye, "{outs:?}");
    assert_eq!(call.ending().expect("ended").why, "hand-off over");
}

#[test]
fn a_long_estimate_offers_it_in_the_queue_and_yes_books_it_keeping_the_place() {
    let mut call = Call::answered_with(callback_rules());
    let outs = call.zero_out(ms(500), true);
    assert!(outs.iter().any(|o| matches!(o, Output::JoinQueue { .. })));
    let outs = call.feed(s(1), Input::WaitEstimate(s(30)));
    assert_eq!(offered(&outs), None, "a short wait brings no offer");
    let outs = call.feed(s(2), Input::WaitEstimate(s(300)));
    assert!(offered(&outs).is_some(), "{outs:?}");
    let outs = call.feed(s(4), utterance("hmm let me think"));
    assert_eq!(booked(&outs), None, "neither yes nor no: {outs:?}");
    let outs = call.feed(s(5), Input::Digit('3'));
    assert_eq!(offered(&outs), Some((None, true)));
    let mut outs = Vec::new();
    for d in "5551250123#".chars() {
        outs.extend(call.feed(s(6), Input::Digit(d)));
    }
    assert!(outs.contains(&Output::LeaveQueue), "{outs:?}");
    assert_eq!(
        booked(&outs),
        Some(("5551250123".into(), Some(ms(500)))),
        "queued at 0.5 s: the callback keeps that place: {outs:?}"
    );
}

#[test]
fn a_number_the_queue_does_not_call_back_is_refused_and_another_asked_for() {
    let mut call = Call::answered_with(callback_rules());
    call.zero_out(ms(500), false);
    call.feed(s(2), Input::Digit('3'));
    let mut outs = Vec::new();
    // The support queue calls back numbers starting 555 or +1 only.
    for d in "9005550100#".chars() {
        outs.extend(call.feed(s(3), Input::Digit(d)));
    }
    assert_eq!(booked(&outs), None, "{outs:?}");
    assert_eq!(offered(&outs), Some((None, true)), "asked again: {outs:?}");
    assert!(call.events().contains(&"callback_number_refused"));
    let mut outs = Vec::new();
    for d in "5550100#".chars() {
        outs.extend(call.feed(s(5), Input::Digit(d)));
    }
    assert_eq!(booked(&outs), Some(("5550100".into(), None)), "{outs:?}");
}

#[test]
fn two_or_no_keeps_the_caller_waiting_and_the_offer_comes_once() {
    let mut call = Call::answered_with(callback_rules());
    call.zero_out(ms(500), true);
    call.feed(s(2), Input::WaitEstimate(s(300)));
    let outs = call.feed(s(3), utterance("no thanks"));
    assert_eq!(booked(&outs), None);
    assert!(!call.core.listens_for_callback());
    assert!(call.events().contains(&"callback_declined"));
    let outs = call.feed(s(40), Input::WaitEstimate(s(400)));
    assert_eq!(offered(&outs), None, "offered once per hand-off");
    // Keys after that do nothing.
    let outs = call.feed(s(41), Input::Digit('1'));
    assert_eq!(booked(&outs), None);
}

#[test]
fn an_agent_coming_free_during_the_offer_takes_the_caller() {
    let mut call = Call::answered_with(callback_rules());
    call.zero_out(ms(500), true);
    call.feed(s(2), Input::WaitEstimate(s(300)));
    call.ring_agent(s(3), "alice");
    assert!(!call.core.listens_for_callback());
    let outs = call.feed(s(4), Input::Digit('1'));
    assert_eq!(booked(&outs), None, "the agent rings: the offer is over");
}

#[test]
fn a_callback_the_store_refused_puts_the_caller_back_at_the_head() {
    let mut call = Call::answered_with(callback_rules());
    call.zero_out(ms(500), false);
    // Yes, without a number in the caller ID: asked to key one.
    let outs = call.feed(s(2), utterance("yes please"));
    assert_eq!(offered(&outs), Some((None, true)), "{outs:?}");
    let mut outs = Vec::new();
    for d in "5550100#".chars() {
        outs.extend(call.feed(s(4), Input::Digit(d)));
    }
    assert!(booked(&outs).is_some(), "{outs:?}");
    let outs = call.feed(s(5), Input::CallbackNotStored);
    assert!(
        outs.contains(&Output::JoinQueue {
            queue: "support".into(),
            head: true,
            agent: None
        }),
        "{outs:?}"
    );
    let outs = call.caller_audio_until(s(30));
    assert!(to_caller(&outs).is_empty(), "never hung up on: {outs:?}");
}
