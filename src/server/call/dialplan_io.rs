//! The IO of the dialplan's data nodes (issue 19): a lookup runs on its own task and its
//! answer comes back through the call loop; a prompt with spoken variables is made by the
//! speech engine off the media loop. No dialplan rule lives here: the engine decided.

use super::*;

impl CallTask {
    /// Starts lookup `id` beside the call (its answer arrives as `Event::LookupDone`).
    pub(super) fn start_lookup(&mut self, id: u32, request: crate::engine::LookupRequest) {
        tracing::info!(url = %self.core.engine().mask_text(&request.url), "dialplan lookup");
        self.lookup = Some(crate::lookup::spawn(&self.sh.config.lookups, id, request));
    }

    /// Speaks `text` (a prompt with its placeholders filled) as prompt `id`; a failure is a
    /// media fault, so the caller goes to a person.
    pub(super) async fn play_text(&mut self, id: u32, prompt: &str, text: String) {
        let (cache, lang) = (Arc::clone(&self.sh.prompts), self.core.engine().language());
        // Captions show what the transcript shows: sensitive values masked.
        let shown = self
            .core
            .engine()
            .last_prompt_text()
            .unwrap_or_default()
            .to_string();
        let made = tokio::task::spawn_blocking(move || cache.get_spoken(lang.code(), &text)).await;
        match made {
            Ok(Ok(p)) => {
                self.sound = Sound::Prompt {
                    id,
                    player: Player::new(p),
                };
                self.marker = true;
                self.caption(crate::phone::captions::Caption::line(&shown));
            }
            Ok(Err(e)) => self.spoken_fault(prompt, &e.to_string()),
            Err(e) => self.spoken_fault(prompt, &e.to_string()),
        }
    }

    fn spoken_fault(&mut self, prompt: &str, why: &str) {
        self.pending.push_back(Event::Fault(Fault {
            kind: FaultKind::Media,
            detail: format!("prompt {prompt} cannot be spoken: {why}"),
        }));
    }
}
