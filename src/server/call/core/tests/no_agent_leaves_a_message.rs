//! Nobody to take the call: an unstaffed queue goes straight to the message; a staffed one
//! after the longest wait. The message is recorded for at most its length, then the line
//! hangs up; a caller who goes silent while recording ends it too.

use super::*;

#[test]
fn an_unstaffed_queue_goes_straight_to_the_message() {
    let mut call = Call::answered();
    let outs = call.zero_out(ms(500), false);
    assert!(outs.contains(&Output::StartMessage), "{outs:?}");
    assert!(!outs.iter().any(|o| matches!(o, Output::JoinQueue { .. })));
    assert!(call.events().contains(&"queue_unstaffed"));
    call.feed(s(5), Input::RecordingStarted);
    let before = call.caller_audio_until(s(64));
    assert!(to_caller(&before).is_empty(), "still recording: {before:?}");
    let outs = call.caller_audio_until(s(65));
    assert_eq!(methods(&to_caller(&outs)), [Method::Bye], "{outs:?}");
    assert_eq!(call.ending().expect("ended").why, "hand-off over");
}

#[test]
fn a_staffed_queue_nobody_answers_ends_in_a_message_after_the_longest_wait() {
    let mut call = Call::answered();
    call.zero_out(ms(500), true);
    let inv = call.ring_agent(s(1), "alice");
    // alice is busy; nobody else is offered.
    let outs = call.agent_sends(s(2), agent_answer(&inv, 486));
    assert!(outs.contains(&Output::RingEnded {
        agent: "alice".into(),
        result: crate::agents::RingResult::Refused
    }));
    let waiting = call.caller_audio_until(ms(120_400));
    assert!(
        !waiting.contains(&Output::StartMessage),
        "not before the longest wait"
    );
    let outs = call.caller_audio_until(s(121));
    assert!(outs.contains(&Output::LeaveQueue), "{outs:?}");
    assert!(outs.contains(&Output::StartMessage), "{outs:?}");
}

#[test]
fn a_caller_silent_while_recording_ends_the_message() {
    let mut call = Call::answered();
    call.zero_out(ms(500), false);
    call.feed(s(5), Input::RecordingStarted);
    call.feed(s(6), Input::CallerPacket);
    // No caller RTP for the 30 s RTP timeout.
    let outs = call.run_until(s(36));
    assert_eq!(methods(&to_caller(&outs)), [Method::Bye], "{outs:?}");
    assert_eq!(
        call.ending().expect("ended").why,
        "caller silent during the message"
    );
}
