//! Contextual biasing ("word boosting"): the words a caller is likely to say at a node — its
//! choices, the choices a step or two ahead, and the names of a person — get a bonus on their
//! tokens while whisper decodes, so that an unclear stretch of audio that could be "agent" is
//! written "agent" rather than the commoner word whisper's language model prefers ("A. Yunt",
//! "photon"). The bonus is added to the logits before whisper picks a token, through
//! whisper.cpp's logits filter: a token that starts a boosted phrase (at a word boundary) or
//! continues one the text is inside of gets `bonus` added. Nothing is forced: audio that sounds
//! like something else still wins, and the transcript is judged afterwards as usual (negation,
//! reported speech, doubt).
//!
//! Only the decoder's choice changes; the cost is a scan of the boosted phrases' token
//! sequences per decoded token (microseconds).

use std::os::raw::{c_int, c_void};
use whisper_rs::whisper_rs_sys::{whisper_context, whisper_state, whisper_token_data};

/// Phrases to favour, each as the token sequences of its spellings (" agent", " Agent"), and
/// by how much (added to the logit of each of their tokens).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Boost {
    phrases: Vec<Vec<Vec<i32>>>,
    bonus: f32,
}

impl Boost {
    /// A boost of `bonus` (logits; 0 turns it off) on `phrases`, each given as the token
    /// sequences of its spellings.
    pub fn new(phrases: Vec<Vec<Vec<i32>>>, bonus: f32) -> Boost {
        let phrases = phrases
            .into_iter()
            .map(|p| p.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect();
        Boost { phrases, bonus }
    }

    /// Whether the boost changes anything.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty() || self.bonus <= 0.0
    }

    /// Adds the bonus to `logits` for every token that starts a boosted sequence or continues
    /// one that the decoded text `so_far` ends inside of. A token is boosted once per step even
    /// when several sequences want it.
    pub fn apply(&self, so_far: &[i32], logits: &mut [f32]) -> Vec<i32> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut boosted: Vec<i32> = Vec::new();
        for spellings in &self.phrases {
            // A phrase is favoured once: boosting what was already written would feed
            // whisper's habit of repeating itself ("technical, technical, …").
            let written = spellings
                .iter()
                .any(|seq| so_far.windows(seq.len()).any(|w| w == seq.as_slice()));
            if written {
                continue;
            }
            for seq in spellings {
                // k tokens of `seq` already written at the end of the text: favour seq[k].
                for k in 0..seq.len() {
                    if k > so_far.len() || so_far[so_far.len() - k..] != seq[..k] {
                        continue;
                    }
                    let t = seq[k];
                    if !boosted.contains(&t) {
                        boosted.push(t);
                    }
                }
            }
        }
        boosted.retain(|t| usize::try_from(*t).is_ok_and(|i| i < logits.len()));
        for t in &boosted {
            logits[*t as usize] += self.bonus;
        }
        boosted
    }

    /// The bonus in logits.
    pub fn bonus(&self) -> f32 {
        self.bonus
    }
}

/// What one decoding step's boost did, to take it back out of the reported probabilities.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StepBoost {
    /// Tokens decoded before this step.
    pub at: usize,
    /// log Σ exp(logits) before the bonus…
    pub lse_before: f32,
    /// …and after it.
    pub lse_after: f32,
    /// The tokens that got the bonus.
    pub boosted: Vec<i32>,
}

/// A boost applied to one decode, with the record of each step: whisper reports the
/// probabilities of the boosted logits, and [`BoostRun::unbiased`] turns a token's reported
/// log-probability back into the model's own, so that the recogniser's doubts (a decoder
/// guessing, noise decoded as words) judge the evidence, not the favour.
#[derive(Debug)]
pub(crate) struct BoostRun<'a> {
    boost: &'a Boost,
    steps: std::sync::Mutex<Vec<StepBoost>>,
}

impl<'a> BoostRun<'a> {
    pub(crate) fn new(boost: &'a Boost) -> Self {
        BoostRun {
            boost,
            steps: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn step(&self, so_far: &[i32], logits: &mut [f32]) {
        let lse_before = log_sum_exp(logits);
        let boosted = self.boost.apply(so_far, logits);
        if boosted.is_empty() {
            return;
        }
        let lse_after = log_sum_exp(logits);
        if let Ok(mut steps) = self.steps.lock() {
            steps.push(StepBoost {
                at: so_far.len(),
                lse_before,
                lse_after,
                boosted,
            });
        }
    }

    /// The model's own log-probability of `token`, written as the `at`-th token of the
    /// decode, whose reported (boosted) log-probability is `plog`; and whether the token was
    /// one the boost favoured.
    pub(crate) fn unbiased(&self, at: usize, token: i32, plog: f32) -> (f32, bool) {
        let Ok(steps) = self.steps.lock() else {
            return (plog, false);
        };
        match steps.iter().rev().find(|s| s.at == at) {
            Some(s) => {
                let favoured = s.boosted.contains(&token);
                let bonus = if favoured { self.boost.bonus } else { 0.0 };
                (plog + s.lse_after - s.lse_before - bonus, favoured)
            }
            None => (plog, false),
        }
    }
}

/// log Σ exp(x) over the finite values (suppressed tokens are −∞).
fn log_sum_exp(x: &[f32]) -> f32 {
    let max = x
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return max;
    }
    let sum: f32 = x
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| (v - max).exp())
        .sum();
    max + sum.ln()
}

/// whisper.cpp's logits filter: `user_data` is a `*const BoostRun` that outlives the decode.
///
/// # Safety
/// Called by whisper.cpp with `tokens` pointing at `n_tokens` decoded tokens and `logits` at
/// the vocabulary's logits (`n_vocab` floats, read from `state`'s context by the caller that
/// set this filter: it passes the length inside the `Boost`'s own bounds check instead).
pub(crate) unsafe extern "C" fn filter_logits(
    ctx: *mut whisper_context,
    _state: *mut whisper_state,
    tokens: *const whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    if user_data.is_null() || logits.is_null() || ctx.is_null() {
        return;
    }
    let run = &*(user_data as *const BoostRun);
    let n_vocab = whisper_rs::whisper_rs_sys::whisper_n_vocab(ctx);
    let Ok(n_vocab) = usize::try_from(n_vocab) else {
        return;
    };
    let so_far: Vec<i32> = if tokens.is_null() || n_tokens <= 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(tokens, n_tokens as usize)
            .iter()
            .map(|t| t.id)
            .collect()
    };
    let logits = std::slice::from_raw_parts_mut(logits, n_vocab);
    run.step(&so_far, logits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_continuations_get_the_bonus() {
        let b = Boost::new(vec![vec![vec![5, 6, 7]], vec![vec![9]]], 2.0);
        let mut logits = vec![0.0f32; 10];
        b.apply(&[1, 2], &mut logits);
        assert_eq!(logits[5], 2.0, "start of a phrase");
        assert_eq!(logits[9], 2.0, "start of another");
        assert_eq!(logits[6], 0.0, "not inside the phrase yet");
        let mut logits = vec![0.0f32; 10];
        b.apply(&[1, 5, 6], &mut logits);
        assert_eq!(logits[7], 2.0, "continues the phrase");
        assert_eq!(logits[6], 0.0);
        assert_eq!(logits[5], 2.0, "a new start is always allowed");
    }

    #[test]
    fn a_phrase_already_written_is_not_favoured_again() {
        let b = Boost::new(vec![vec![vec![5, 6], vec![4, 6]], vec![vec![8]]], 2.0);
        let mut logits = vec![0.0f32; 10];
        b.apply(&[1, 5, 6, 2], &mut logits);
        assert_eq!(logits[5], 0.0, "\"5 6\" was written: no second time");
        assert_eq!(logits[4], 0.0, "nor in another spelling");
        assert_eq!(logits[8], 2.0);
    }

    #[test]
    fn a_token_is_boosted_once_and_out_of_range_ids_are_ignored() {
        let b = Boost::new(vec![vec![vec![3]], vec![vec![3, 4]], vec![vec![40]]], 1.5);
        let mut logits = vec![0.0f32; 10];
        b.apply(&[], &mut logits);
        assert_eq!(logits[3], 1.5);
        assert!(logits.iter().filter(|l| **l != 0.0).count() == 1);
    }

    #[test]
    fn the_bonus_is_taken_back_out_of_a_boosted_tokens_probability() {
        let b = Boost::new(vec![vec![vec![2]]], 3.0);
        let run = BoostRun::new(&b);
        let mut logits = vec![1.0f32, 0.5, -1.0, f32::NEG_INFINITY];
        let model = {
            let lse = log_sum_exp(&logits);
            logits.iter().map(|l| l - lse).collect::<Vec<_>>()
        };
        run.step(&[7, 8], &mut logits);
        let lse = log_sum_exp(&logits);
        let reported: Vec<f32> = logits.iter().map(|l| l - lse).collect();
        assert!(
            reported[2] > model[2] + 2.0,
            "whisper sees the favoured token"
        );
        for t in 0..3 {
            let (back, favoured) = run.unbiased(2, t as i32, reported[t]);
            assert!(
                (back - model[t]).abs() < 1e-4,
                "token {t}: {back} vs {}",
                model[t]
            );
            assert_eq!(favoured, t == 2);
        }
        assert_eq!(
            run.unbiased(5, 2, -0.3),
            (-0.3, false),
            "a step without a boost is as reported"
        );
    }

    #[test]
    fn zero_bonus_changes_nothing() {
        let b = Boost::new(vec![vec![vec![1]]], 0.0);
        assert!(b.is_empty());
        let mut logits = vec![0.0f32; 4];
        b.apply(&[], &mut logits);
        assert!(logits.iter().all(|l| *l == 0.0));
    }
}
