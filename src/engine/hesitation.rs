//! The hesitation score: per-turn signals, weighted by the plan, decaying across turns.

use crate::dialplan::HesitationConfig;
use std::time::Duration;

/// What one caller turn showed. Built from the utterance's timing and text (or a no-input).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnFeatures {
    /// Silence between the question and the first word (`None` for a barge-in).
    pub delay: Option<Duration>,
    /// Pauses inside the utterance.
    pub pauses: Vec<Duration>,
    /// Fillers said, as heard.
    pub fillers: Vec<String>,
    /// The confusion phrase said, if any.
    pub confusion: Option<String>,
    /// Syllables per second of voiced time, when the utterance was long enough to judge.
    pub syllables_per_second: Option<f64>,
    /// The caller said nothing for this long.
    pub no_input: Option<Duration>,
    /// What the caller said matched no choice.
    pub no_match: bool,
    /// The caller asked to hear the prompt again.
    pub repeat_request: bool,
    /// The answer ended with rising pitch, in semitones against the rest of it (a statement
    /// said like a question: "billing…?").
    pub final_rise_semitones: Option<f64>,
}

/// Keeps a call's hesitation score. Pure arithmetic: weights and thresholds come from the plan.
#[derive(Debug, Clone)]
pub struct Scorer {
    cfg: HesitationConfig,
    score: f64,
}

impl Scorer {
    /// A scorer at zero.
    pub fn new(cfg: HesitationConfig) -> Self {
        Scorer { cfg, score: 0.0 }
    }

    /// The current score.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// Adds a turn: the old score decays, this turn's weighted signals are added. Returns the
    /// signals that fired, in words.
    pub fn turn(&mut self, f: &TurnFeatures) -> Vec<String> {
        let (c, w) = (&self.cfg, &self.cfg.weights);
        let mut add = 0.0;
        let mut said = Vec::new();
        if let Some(d) = f.delay.filter(|d| d.as_secs_f64() > c.delay_seconds) {
            add += w.delay;
            said.push(format!("waited {:.1} s before speaking", d.as_secs_f64()));
        }
        let long: Vec<f64> = f
            .pauses
            .iter()
            .map(Duration::as_secs_f64)
            .filter(|p| *p > c.long_pause_seconds)
            .collect();
        if !long.is_empty() {
            add += w.long_pause * long.len().min(c.max_pauses) as f64;
            let longest = long.iter().copied().fold(0.0, f64::max);
            said.push(format!(
                "{} pause{} over {:.1} s inside the answer (longest {:.1} s)",
                long.len(),
                if long.len() == 1 { "" } else { "s" },
                c.long_pause_seconds,
                longest
            ));
        }
        if !f.fillers.is_empty() {
            add += w.filler * f.fillers.len().min(c.max_fillers) as f64;
            said.push(format!("fillers: {}", f.fillers.join(", ")));
        }
        if let Some(p) = &f.confusion {
            add += w.confusion;
            said.push(format!("said \"{p}\""));
        }
        if let Some(r) = f
            .syllables_per_second
            .filter(|r| *r < c.slow_syllables_per_second)
        {
            add += w.slow_speech;
            said.push(format!("slow speech: {r:.1} syllables/s"));
        }
        if let Some(d) = f.no_input {
            add += w.no_input;
            said.push(format!("no answer for {:.1} s", d.as_secs_f64()));
        }
        if f.no_match {
            add += w.no_match;
        }
        if f.repeat_request {
            add += w.repeat_request;
            said.push("asked to hear it again".to_string());
        }
        if let Some(r) = f
            .final_rise_semitones
            .filter(|r| *r >= c.rising_final_semitones)
        {
            add += w.rising_final;
            said.push(format!(
                "voice rose at the end (+{r:.1} semitones), as if asking"
            ));
        }
        self.score = self.score * c.decay + add;
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_fluent_answer_scores_nothing() {
        let mut s = Scorer::new(HesitationConfig::default());
        let said = s.turn(&TurnFeatures {
            delay: Some(secs(0.6)),
            syllables_per_second: Some(4.0),
            ..Default::default()
        });
        assert!(said.is_empty());
        assert_eq!(s.score(), 0.0);
    }

    #[test]
    fn a_hesitant_answer_crosses_the_default_threshold_at_once() {
        let mut s = Scorer::new(HesitationConfig::default());
        let said = s.turn(&TurnFeatures {
            delay: Some(secs(4.0)),
            pauses: vec![secs(3.0)],
            fillers: vec!["um".into(), "uh".into()],
            confusion: Some("I don't understand".into()),
            no_match: true,
            ..Default::default()
        });
        assert!(s.score() >= 0.6, "score {}", s.score());
        assert!(said.iter().any(|x| x.contains("waited 4.0 s")));
        assert!(said.iter().any(|x| x.contains("I don't understand")));
    }

    #[test]
    fn old_turns_decay() {
        let mut s = Scorer::new(HesitationConfig::default());
        s.turn(&TurnFeatures {
            no_input: Some(secs(6.0)),
            ..Default::default()
        });
        let first = s.score();
        s.turn(&TurnFeatures::default());
        assert!((s.score() - first * 0.5).abs() < 1e-9);
    }
}
