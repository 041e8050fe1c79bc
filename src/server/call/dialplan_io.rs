//! The IO of the dialplan's data nodes (issue 19): a lookup runs on its own task and its
//! answer comes back through the call loop; a prompt with spoken variables is made by the
//! speech engine beside the call and plays when it is ready. No dialplan rule lives here:
//! the engine decided.

use super::*;

impl CallTask {
    /// Starts lookup `id` beside the call (its answer arrives as `Event::LookupDone`).
    pub(super) fn start_lookup(&mut self, id: u32, request: crate::engine::LookupRequest) {
        tracing::info!(url = %self.core.engine().mask_text(&request.url), "dialplan lookup");
        self.lookup = Some(crate::lookup::spawn(&self.sh.config.lookups, id, request));
    }

    /// Speaks `text` (a prompt with its placeholders filled) as prompt `id`, once the speech
    /// engine made it on a blocking thread ([`jobs::Done::Spoken`]); a failure is a media
    /// fault, so the caller goes to a person.
    pub(super) fn play_text(&mut self, id: u32, prompt: &str, text: String) {
        let (cache, lang) = (Arc::clone(&self.sh.prompts), self.core.engine().language());
        // Captions show what the transcript shows: sensitive values masked.
        let shown = self
            .core
            .engine()
            .last_prompt_text()
            .unwrap_or_default()
            .to_string();
        self.awaited_prompt = Some(id);
        self.media.lock().playout.stop_prompt();
        let prompt = prompt.to_string();
        self.jobs.spawn(async move {
            let made =
                tokio::task::spawn_blocking(move || cache.get_spoken(lang.code(), &text)).await;
            let result = match made {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            jobs::Done::Spoken {
                id,
                prompt,
                shown,
                result,
            }
        });
    }

    /// The spoken words of prompt `id` are made: they play, unless the engine moved on.
    pub(super) fn spoken_ready(
        &mut self,
        id: u32,
        prompt: &str,
        shown: &str,
        made: Result<crate::media::Prompt, String>,
    ) {
        if self.awaited_prompt != Some(id) {
            return;
        }
        self.awaited_prompt = None;
        match made {
            Ok(p) => {
                self.media.lock().playout.play(id, p);
                self.caption(crate::phone::captions::Caption::line(shown));
            }
            Err(why) => self.pending.push_back(Event::Fault(Fault {
                kind: FaultKind::Media,
                detail: format!("prompt {prompt} cannot be spoken: {why}"),
            })),
        }
    }
}
