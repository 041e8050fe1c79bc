//! A recognition that does not come back by its deadline is a fault: the job is abandoned and
//! the caller goes to a person at once, never left waiting on a recogniser.

use super::*;
use crate::engine::Reason;

#[test]
fn a_missed_recognition_deadline_hands_the_caller_to_a_person() {
    let mut call = Call::answered();
    call.feed(
        s(2),
        Input::RecognitionStarted {
            job: 1,
            deadline: s(10),
        },
    );
    assert!(
        call.core.poll_timeout().is_some_and(|t| t <= s(10)),
        "the core wakes up by the deadline"
    );
    let before = call.caller_audio_until(ms(9_999));
    assert!(!before.contains(&Output::AbandonRecognition(1)));
    let outs = call.caller_audio_until(s(10));
    assert!(outs.contains(&Output::AbandonRecognition(1)), "{outs:?}");
    assert!(
        outs.iter().any(|o| matches!(
            o,
            Output::Transfer {
                reason: Some(Reason::Fault),
                ..
            }
        )),
        "{outs:?}"
    );
    assert!(call.events().contains(&"asr_fault"));
}

#[test]
fn a_recognition_back_in_time_is_no_fault() {
    let mut call = Call::answered();
    call.feed(
        s(2),
        Input::RecognitionStarted {
            job: 1,
            deadline: s(10),
        },
    );
    call.feed(s(3), Input::RecognitionEnded { job: 1 });
    let outs = call.caller_audio_until(s(11));
    assert!(!outs.contains(&Output::AbandonRecognition(1)));
    assert!(!call.events().contains(&"asr_fault"));
}
