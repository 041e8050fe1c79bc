//! Intonation measured on real synthetic speech: espeak-ng says the same words as a statement
//! and as a question, through the phone band; the question must be measured as ending higher.
//! Needs espeak-ng and sox (`scripts/setup.sh`).

mod common;

use common::speech::{Speech, Voice};
use humanline::media::Prosody;

fn measure(dir: &std::path::Path, voice: Voice, text: &str) -> Prosody {
    let s = Speech::new().say(dir, voice, 150, text);
    Prosody::measure(&s.pcm).unwrap_or_else(|| panic!("no prosody for {text:?}"))
}

#[test]
fn a_question_is_measured_as_rising_and_a_statement_is_not() {
    let dir = tempfile::tempdir().unwrap();
    for (statement, question) in [
        ("I want to pay my bill.", "I want to pay my bill?"),
        ("It is about my internet.", "It is about my internet?"),
    ] {
        let s = measure(dir.path(), Voice::En, statement);
        let q = measure(dir.path(), Voice::En, question);
        eprintln!("{statement:?}: {s:?}\n{question:?}: {q:?}");
        assert!(
            q.final_rise_semitones > s.final_rise_semitones + 1.0,
            "question {q:?} vs statement {s:?}"
        );
        assert!(q.final_rise_semitones > 1.0, "{q:?}");
        assert!(s.final_rise_semitones < 1.0, "{s:?}");
    }
}
