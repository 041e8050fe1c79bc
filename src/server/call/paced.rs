//! Prompts at the call's pace: the slower renderings for a caller in elderly mode, made off the
//! media loop. The engine says which pace each prompt plays at; this only fetches the audio.

use super::*;
use crate::media::{Pace, Prompt, PromptError};

impl CallTask {
    /// Plays engine prompt `id`: `name` at `pace`. A rendering not in memory yet is made on a
    /// blocking thread (a slower one costs a little CPU once per prompt) and plays when it is
    /// ready ([`jobs::Done::Prompt`]); the call goes on meanwhile, quiet.
    pub(super) fn play(&mut self, id: u32, name: &str, pace: Pace) {
        let lang = self.core.engine().language().code();
        if self.sh.prompts.is_ready(lang, name, pace) {
            let ready = self.sh.prompts.get_paced(lang, name, pace);
            return self.start_prompt(id, name, ready.map_err(|e| e.to_string()));
        }
        self.awaited_prompt = Some(id);
        self.media.lock().playout.stop_prompt();
        let cache = Arc::clone(&self.sh.prompts);
        let name = name.to_string();
        self.jobs.spawn(async move {
            let (c, n) = (Arc::clone(&cache), name.clone());
            let made = tokio::task::spawn_blocking(move || c.get_paced(lang, &n, pace)).await;
            let result = match made {
                Ok(r) => r,
                // The blocking pool is shutting down: the recorded pace, read here.
                Err(_) => cache.get(lang, &name),
            };
            jobs::Done::Prompt {
                id,
                name,
                result: result.map_err(|e| e.to_string()),
            }
        });
    }

    /// Plays prompt `id` (its audio made), or tells the engine it cannot: a media fault, so
    /// the caller goes to a person.
    pub(super) fn start_prompt(&mut self, id: u32, name: &str, made: Result<Prompt, String>) {
        self.awaited_prompt = None;
        match made {
            Ok(p) => {
                self.media.lock().playout.play(id, p);
                self.caption_prompts(&[name]);
            }
            Err(e) => {
                tracing::error!("prompt {name}: {e}");
                self.pending.push_back(Event::Fault(Fault {
                    kind: FaultKind::Media,
                    detail: format!("prompt {name} cannot be played: {e}"),
                }));
            }
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
    /// is needed. Prompts already made, or being made for another call, cost nothing.
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
        let claimed = self.sh.prompts.claim_slow(lang, &names);
        if claimed.is_empty() {
            return; // made already, or being made for another call
        }
        let cache = Arc::clone(&self.sh.prompts);
        tokio::task::spawn_blocking(move || cache.warm_slow(lang, &claimed));
    }
}
