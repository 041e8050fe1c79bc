//! When not to believe the recogniser. Whisper, given short or unclear audio, writes text that
//! nobody said: it copies its initial prompt ("人工服务, 人工服务, 人工服务" for an answer about
//! opening hours), loops on a phrase, or decodes words from noise. Such text must never become a
//! menu choice or a request for a person. These checks use what whisper itself reports — the
//! probability it gave to "nobody spoke", the mean log-probability of its tokens — and the shape
//! of the text against the prompt it was given.

use crate::text::{normalize, tokens};

/// Thresholds of [`doubt`]. The defaults are whisper's own (`no_speech_thold` 0.6,
/// `logprob_thold` −1.0, `compression_ratio_thold` 2.4 in spirit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubtLimits {
    /// "Nobody spoke" at least this likely…
    pub no_speech: f32,
    /// …and the text's mean log-probability under this: not speech.
    pub no_speech_logprob: f64,
    /// Mean log-probability under this: the decoder was guessing, whatever the audio.
    pub logprob: f64,
}

impl Default for DoubtLimits {
    fn default() -> Self {
        DoubtLimits {
            no_speech: 0.6,
            no_speech_logprob: -1.0,
            logprob: -1.6,
        }
    }
}

/// Why the text of a decode should not be believed, or `None` when it may be.
pub fn doubt(
    text: &str,
    prompt: Option<&str>,
    mean_logprob: Option<f64>,
    no_speech: f32,
    limits: &DoubtLimits,
) -> Option<String> {
    let said = tokens(text);
    if said.is_empty() {
        return None;
    }
    if let Some(lp) = mean_logprob {
        if no_speech >= limits.no_speech && lp < limits.no_speech_logprob {
            return Some(format!(
                "probably no speech (no-speech probability {no_speech:.2}, mean log-probability {lp:.2})"
            ));
        }
        if lp < limits.logprob {
            return Some(format!(
                "the recogniser was guessing (mean log-probability {lp:.2})"
            ));
        }
    }
    if let Some(r) = repetition(text) {
        return Some(r);
    }
    prompt.and_then(|p| copied_from_prompt(text, p))
}

/// A phrase said again and again ("no pain no pain no pain", "人工服务，人工服务，人工服务").
fn repetition(text: &str) -> Option<String> {
    // Whisper's loops repeat the same run of text; punctuation runs show it in both languages.
    let pieces: Vec<String> = text
        .split(|c: char| ",.;!?，。；！？、".contains(c))
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect();
    if pieces.len() >= 3 {
        let first = &pieces[0];
        let same = pieces.iter().filter(|p| *p == first).count();
        if same >= 3 && same * 2 > pieces.len() {
            return Some(format!("the recogniser repeated \"{first}\" {same} times"));
        }
    }
    // Or words: a short run of tokens repeated back to back three times or more.
    let t: Vec<String> = tokens(text).into_iter().map(|t| t.sound).collect();
    for n in 1..=4usize {
        if t.len() < n * 3 {
            break;
        }
        for start in 0..=t.len() - n * 3 {
            let unit = &t[start..start + n];
            let mut reps = 1;
            while start + (reps + 1) * n <= t.len()
                && &t[start + reps * n..start + (reps + 1) * n] == unit
            {
                reps += 1;
            }
            // "no no no" from a caller is real; four of a two-word phrase is not.
            if reps >= 3 && reps * n >= 6 {
                return Some(format!(
                    "the recogniser repeated \"{}\" {reps} times",
                    unit.join(" ")
                ));
            }
        }
    }
    None
}

/// Text made only of the prompt's phrases, three or more of them: the decoder read its prompt
/// back instead of the audio ("billing, technical, order, hours").
fn copied_from_prompt(text: &str, prompt: &str) -> Option<String> {
    let phrases: Vec<String> = prompt
        .split(|c: char| ",;，；、".contains(c))
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect();
    let pieces: Vec<String> = text
        .split(|c: char| ",.;!?，。；！？、".contains(c))
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect();
    // Two prompt words ("how much, owe") are what a short, right answer looks like under a
    // prompt; a list of three or more is the prompt itself.
    if pieces.len() < 3 {
        return None;
    }
    let copied = pieces.iter().filter(|p| phrases.contains(p)).count();
    (copied == pieces.len()).then(|| {
        format!(
            "the recogniser wrote back its prompt (\"{}\")",
            pieces.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str, prompt: Option<&str>, lp: Option<f64>, ns: f32) -> Option<String> {
        doubt(text, prompt, lp, ns, &DoubtLimits::default())
    }

    #[test]
    fn a_clear_answer_is_believed() {
        assert_eq!(
            d(
                "I want to pay my bill",
                Some("billing, agent"),
                Some(-0.3),
                0.01
            ),
            None
        );
        assert_eq!(
            d("我要人工服务", Some("人工, 客服"), Some(-0.4), 0.05),
            None
        );
        assert_eq!(
            d("no no no", None, Some(-0.2), 0.0),
            None,
            "a caller may say it"
        );
        assert_eq!(
            d("billing", Some("billing, technical"), Some(-0.2), 0.0),
            None
        );
    }

    #[test]
    fn a_prompt_read_back_is_doubted() {
        let prompt = "账单, 故障, 订单, 营业时间, 人工服务, 客服";
        assert!(d(
            "人工服务，人工服务，人工服务",
            Some(prompt),
            Some(-0.5),
            0.1
        )
        .is_some());
        assert!(d("账单，故障，订单", Some(prompt), Some(-0.3), 0.1).is_some());
        assert_eq!(
            d(
                "how much, owe",
                Some("balance, how much, owe, agent"),
                Some(-0.4),
                0.0
            ),
            None
        );
        assert!(d(
            "billing, technical, order, hours",
            Some("billing, technical, order, hours, agent"),
            Some(-0.3),
            0.1
        )
        .is_some());
    }

    #[test]
    fn loops_and_noise_are_doubted() {
        assert!(d("no pain no pain no pain no pain", None, Some(-0.4), 0.1).is_some());
        assert!(
            d("Thank you.", None, Some(-1.2), 0.8).is_some(),
            "no speech"
        );
        assert!(d("agent", None, Some(-2.0), 0.2).is_some(), "guessing");
    }
}
