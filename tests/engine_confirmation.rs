//! The one confirmation: a caller who names a person without clearly asking is asked once
//! ("Do you want to talk to a person?" / "您是要转人工吗？"); yes or silence transfers, a "no"
//! goes back to the question (or straight on to the choice said with it), and naming a person
//! again always transfers.

mod common;

use common::{
    asked_then_silence_transfers, assert_answered_at, assert_handed_over_as_asked, run_demo,
    signals, transferred,
};
use humanline::engine::Reason;

#[test]
fn a_person_named_without_a_request_is_asked_once_and_yes_transfers() {
    let r = run_demo("support", "say is this the customer service line\nsay yes");
    assert_handed_over_as_asked(&r);
    let asked = r
        .summary
        .transcript
        .iter()
        .filter(|t| t.text.contains("Do you want to talk to a person"))
        .count();
    assert_eq!(asked, 1, "one question");
}

#[test]
fn silence_after_the_confirmation_question_transfers() {
    let r = run_demo(
        "support",
        "say is this the customer service line\nsilence 12",
    );
    assert_handed_over_as_asked(&r);
}

/// Whisper, given a prompt that ends with 人工, 客服, may write the name first and then scraps
/// of what was said ("你们周末营业吗" heard as "人工, 营业,"): the scraps' choice is the answer,
/// and with none the caller is asked once, silence or yes transferring.
#[test]
fn a_mandarin_name_heading_scraps_is_confirmed_not_transferred_at_once() {
    let r = run_demo("support_zh", "say 人工, 营业,");
    assert_answered_at(&r, "hours");
    asked_then_silence_transfers("support_zh", "人工, 人家,", "转人工吗");
    let r = run_demo("support_zh", "say 人工, 人家,\nsay 不是\nsay 营业时间");
    assert_answered_at(&r, "hours");
}

/// "representative" said alone, heard as "reprimand atini": no request words, no choice, but
/// the sound of a long name: asked once, and silence transfers; "operating hours" is the hours.
#[test]
fn a_long_name_misheard_alone_is_asked_about() {
    asked_then_silence_transfers(
        "support",
        "reprimand atini",
        "Do you want to talk to a person",
    );
    let r = run_demo("support", "say operating hours");
    assert_answered_at(&r, "hours");
}

#[test]
fn no_to_the_confirmation_goes_back_to_the_question_and_the_answer_routes() {
    let r = run_demo(
        "support",
        "say is this the customer service line\nsay no\nsay billing",
    );
    assert_answered_at(&r, "billing");
}

#[test]
fn naming_a_person_again_after_the_question_always_transfers() {
    let r = run_demo(
        "support",
        "say is this the customer service line\nsay no\nsay customer service again",
    );
    assert_handed_over_as_asked(&r);
}

#[test]
fn more_ways_of_saying_yes_transfer() {
    for (plan, yes) in [
        ("support", "absolutely"),
        ("support", "of course"),
        ("support_zh", "当然"),
        ("support_zh", "没错"),
    ] {
        let named = if plan == "support" {
            "is this the customer service line"
        } else {
            "人工服务在哪里"
        };
        let r = run_demo(plan, &format!("say {named}\nsay {yes}"));
        assert_eq!(
            transferred(&r),
            Some(Reason::HumanRequest),
            "{yes}: {}",
            signals(&r)
        );
    }
}

#[test]
fn no_with_a_choice_goes_straight_to_the_choice() {
    // "No, I want billing": the choice said with the "no" is taken at once, not asked again.
    let r = run_demo(
        "support",
        "say is this the customer service line\nsay no I want billing",
    );
    assert_answered_at(&r, "billing");
    let r = run_demo("support_zh", "say 人工服务在哪里\nsay 不用了，我查话费");
    assert_answered_at(&r, "billing");
    // A "no" that is itself a choice of a yes/no question answers the confirmation only: the
    // question ("did that fix it?") is asked again, the caller not sent on by it.
    let r = run_demo(
        "support",
        "say internet\nsay is this the customer service line\nsay no",
    );
    assert_eq!(transferred(&r), None, "{}", signals(&r));
    assert!(
        !r.summary.path.iter().any(|n| n == "tech_transfer"),
        "{:?}",
        r.summary.path
    );
}

/// A caller whose answer here already went wrong is struggling: naming a person then, even
/// without clearly asking, hands them over without the question ("and repairman," then
/// "reprimand your team" for "representative" said twice). In both languages, and after a
/// silence as after words not understood.
#[test]
fn a_person_named_after_a_turn_that_went_wrong_goes_through_without_the_question() {
    for (plan, script) in [
        (
            "support",
            "say the weather is lovely\nsay reprimand your team",
        ),
        (
            "support",
            "silence 7\nsay is this the customer service line",
        ),
        ("support_zh", "say 今天天气很好\nsay 人工, 人家,"),
    ] {
        let r = run_demo(plan, script);
        assert_eq!(transferred(&r), Some(Reason::HumanRequest), "{script}");
        let asked = r
            .summary
            .transcript
            .iter()
            .any(|t| t.text.contains("talk to a person") || t.text.contains("转人工吗"));
        assert!(!asked, "no confirmation question: {script}");
        assert!(
            signals(&r).contains("after a turn here that went wrong"),
            "{}",
            signals(&r)
        );
    }
}
