//! Prompts at the call's pace: the slower renderings for a caller in elderly mode, made off the
//! media loop. The engine says which pace each prompt plays at; this only fetches the audio.

use super::*;
use crate::media::{Pace, Prompt, PromptError};

impl CallTask {
    /// The prompt `name` at `pace`. A rendering not in memory yet is made on a blocking thread
    /// (a slower one costs a little CPU once per prompt), so no media loop waits for it.
    pub(super) async fn prompt_at(&self, name: &str, pace: Pace) -> Result<Prompt, PromptError> {
        let lang = self.core.engine().language().code();
        if self.sh.prompts.is_ready(lang, name, pace) {
            return self.sh.prompts.get_paced(lang, name, pace);
        }
        let cache = Arc::clone(&self.sh.prompts);
        let owned = name.to_string();
        match tokio::task::spawn_blocking(move || cache.get_paced(lang, &owned, pace)).await {
            Ok(r) => r,
            // The blocking pool is shutting down: the recorded pace, read here.
            Err(_) => self.sh.prompts.get(lang, name),
        }
    }

    /// The prompt `name` at `pace` if that rendering is ready, else as recorded: for prompts
    /// that must not wait a moment (the "connecting you" words while an agent already rings,
    /// the queue announcements). [`warm_slow_prompts`](Self::warm_slow_prompts) makes them
    /// ready as soon as a call turns elderly.
    pub(super) fn prompt_now(&self, name: &str, pace: Pace) -> Result<Prompt, PromptError> {
        let lang = self.core.engine().language().code();
        if pace == Pace::Slow && self.sh.prompts.is_ready(lang, name, Pace::Slow) {
            return self.sh.prompts.get_paced(lang, name, Pace::Slow);
        }
        self.sh.prompts.get(lang, name)
    }

    /// The pace of prompts after the hand-off (announcements, "connecting you").
    pub(super) fn handoff_pace(&self) -> Pace {
        if self.core.transfer().is_some_and(|(_, c)| c.elderly) || self.core.engine().is_elderly() {
            Pace::Slow
        } else {
            Pace::Normal
        }
    }

    /// The call has just turned elderly: make the slower renderings of every prompt of its plan
    /// (and of the queue announcements) on a blocking thread, so that each is ready before it
    /// is needed. Prompts already made cost nothing.
    pub(super) fn warm_slow_prompts(&self) {
        let lang = self.core.engine().language().code();
        let mut names: Vec<String> = self
            .plan
            .program
            .plan
            .prompts()
            .into_iter()
            .map(str::to_string)
            .collect();
        names.extend(
            [
                "queue_position",
                "queue_in_line",
                "queue_estimate",
                MESSAGE_PROMPT,
            ]
            .map(str::to_string),
        );
        let cache = Arc::clone(&self.sh.prompts);
        tokio::task::spawn_blocking(move || {
            for n in names {
                // A prompt without a file is reported when it is played, not here.
                let _ = cache.get_paced(lang, &n, Pace::Slow);
            }
        });
    }
}
