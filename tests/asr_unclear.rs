//! No match invented by the recogniser: whisper (the default q8_0 model, primed with the main
//! menu's words and the "talk to a person" phrases, as the server primes it; once more with word
//! boosting on, which an operator may turn on) hears clips with no answer in them — a filler alone, line noise, a cough of noise between
//! silences — and the
//! engine, given what whisper wrote, picks no choice and calls no person. The recogniser's own
//! doubts (prompt read back, loops, no speech) are checked on the way.
//!
//! Skipped without `models/ggml-base-q8_0.bin` unless `HUMANLINE_REQUIRE_MODEL` is set.

mod common;

use common::speech::{model_available, model_path, Speech, Voice};
use common::{demo_plan, program, Driver};
use humanline::asr::{
    audio_ctx_for, upsample_8k_to_16k, RecognizeOptions, Recognizer, WhisperRecognizer,
};
use humanline::engine::{Action, Event, Utterance};
use std::time::Duration;

/// White noise at about -30 dBFS (a bad line), 8 kHz.
fn noise(seconds: f64, seed: u32) -> Vec<i16> {
    let mut s = seed;
    (0..(seconds * 8000.0) as usize)
        .map(|_| {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (((s >> 16) & 0x7fff) as i32 - 0x4000) as i16 / 16
        })
        .collect()
}

#[test]
fn fillers_and_noise_with_the_menu_prompt_choose_nothing_and_call_nobody() {
    if !model_available() {
        return;
    }
    let rec = WhisperRecognizer::load(&model_path(), 2).expect("model loads");
    let dir = tempfile::tempdir().unwrap();
    for plan in ["support", "support_zh"] {
        let prog = program(demo_plan(plan));
        let menu = prog.plan.find("menu").expect("a menu");
        let language = prog.plan.language.code();
        let prompt = prog.hints(menu).join(", ");
        let voice = if language == "zh" {
            Voice::Zh
        } else {
            Voice::En
        };
        let filler = if language == "zh" { "en2" } else { "um" };
        let clips: Vec<(&str, Vec<i16>)> = vec![
            (
                "a filler alone",
                Speech::new()
                    .pause(0.3)
                    .say(dir.path(), voice, 90, filler)
                    .pause(0.3)
                    .pcm,
            ),
            ("line noise", noise(1.5, 7)),
            ("a burst of noise between silences", {
                let mut v = vec![0i16; 4000];
                v.extend(noise(0.6, 11).iter().map(|s| s.saturating_mul(4)));
                v.extend(vec![0i16; 4000]);
                v
            }),
        ];
        for ((what, pcm8k), boost_logit) in clips
            .iter()
            .flat_map(|c| [(c.clone(), 0.0f32), (c.clone(), 2.0)])
        {
            let what = format!("{what}, boost {boost_logit}");
            let pcm16k = upsample_8k_to_16k(&pcm8k).expect("resample");
            let duration = Duration::from_secs_f64(pcm8k.len() as f64 / 8000.0);
            let t = rec
                .transcribe(
                    &pcm16k,
                    &RecognizeOptions {
                        language: Some(language.into()),
                        initial_prompt: Some(prompt.clone()),
                        audio_ctx: Some(audio_ctx_for(duration, Some(language))),
                        // With word boosting on, the favoured words must not be read into a
                        // filler or noise either.
                        boost: prog.boost(menu),
                        boost_logit,
                    },
                )
                .expect("transcribes");
            eprintln!("{plan}, {what}: {:?} (doubt {:?})", t.text, t.doubt);
            // The engine at the main menu, listening, given exactly what whisper wrote.
            let mut d = Driver::new(prog.clone());
            d.send(Event::Start);
            d.finish_prompt();
            d.finish_prompt();
            let out = d.send(Event::Utterance(Utterance {
                text: t.text.clone(),
                started: d.now,
                ended: d.now + duration,
                doubt: t.doubt.as_ref().map(ToString::to_string),
                ..Default::default()
            }));
            let moved = out
                .iter()
                .any(|a| matches!(a, Action::Transfer { .. } | Action::Hangup));
            assert!(
                !moved && d.call.outcome().is_none(),
                "{plan}, {what}: whisper wrote {:?} and the call was handed over: {out:?}",
                t.text
            );
            assert_eq!(
                d.call.node_name(),
                "menu",
                "{plan}, {what}: whisper wrote {:?} and the call moved on: {out:?}",
                t.text
            );
        }
    }
}
