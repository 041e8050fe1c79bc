//! The callback offer's sounds and the booking (the core decides: [`core::Output::OfferCallback`]
//! and [`core::Output::BookCallback`]). The offer and the confirmation are spoken by the
//! prompts' speech engine from the `callback_*.txt` templates of the caller's language; the
//! booking is written to the store with the screen pop as the agent's context and the caller's
//! place in line, then confirmed, and the line hangs up after the confirmation.

use super::jobs::Done;
use super::*;
use crate::media::Prompt;
use crate::store::NewCallback;

/// Which template says what.
fn template(number: bool, keying: bool) -> &'static str {
    match (keying, number) {
        (true, _) => "callback_key_number",
        (false, true) => "callback_offer",
        (false, false) => "callback_offer_keyed",
    }
}

/// `name`'s template of `lang` with `number` read digit by digit, spoken; `None` (logged) when
/// the template or the speech engine is missing.
fn speak(
    cache: &crate::media::PromptCache,
    lang: &str,
    name: &str,
    number: Option<&str>,
) -> Option<(String, Prompt)> {
    let file = cache.root().join(lang).join(format!("{name}.txt"));
    let template = std::fs::read_to_string(&file)
        .map_err(|e| tracing::error!("callback words {}: {e}", file.display()))
        .ok()?;
    let text = crate::text::spoken::render(template.trim(), lang, |v| match v {
        "number" => number.map(str::to_string),
        _ => None,
    });
    cache
        .get_spoken(lang, &text)
        .map_err(|e| tracing::error!("callback words cannot be spoken: {e}"))
        .ok()
        .map(|p| (text, p))
}

impl CallTask {
    /// Speaks the callback offer (or the request to key a number), then hold music.
    pub(super) fn offer_callback(&mut self, number: Option<String>, keying: bool) {
        self.announcement += 1;
        let seq = self.announcement;
        let name = template(number.is_some(), keying);
        self.speak_callback(name, number, move |spoken| Done::CallbackWords {
            seq,
            booked: false,
            spoken,
        });
    }

    fn speak_callback(
        &mut self,
        name: &'static str,
        number: Option<String>,
        done: impl FnOnce(Option<(String, Prompt)>) -> Done + Send + 'static,
    ) {
        let lang = self.core.engine().language().code();
        let cache = Arc::clone(&self.sh.prompts);
        self.jobs.spawn(async move {
            let made =
                tokio::task::spawn_blocking(move || speak(&cache, lang, name, number.as_deref()));
            done(made.await.ok().flatten())
        });
    }

    /// Stores the booked callback (the caller's place in line and the screen pop as the
    /// agent's context), then speaks the confirmation.
    pub(super) async fn book_callback(
        &mut self,
        queue: String,
        number: String,
        queued_at: Option<Duration>,
    ) {
        self.announcement += 1;
        let seq = self.announcement;
        let waited = queued_at.map_or(Duration::ZERO, |t| self.now().saturating_sub(t));
        let joined_at_ms = now_ms() - waited.as_millis() as i64;
        let context = self.screen_pop_with(json!([]));
        let language = self.core.engine().language().code().to_string();
        let (call_id, q, n) = (self.id.clone(), queue.clone(), number.clone());
        let stored = self
            .sh
            .store
            .run(move |s| {
                s.add_callback(
                    &NewCallback {
                        call_id: &call_id,
                        queue: &q,
                        number: &n,
                        language: &language,
                        context: &context,
                        joined_at_ms,
                    },
                    now_ms(),
                )
            })
            .await;
        match stored {
            Ok(id) => {
                tracing::info!(id, queue, "callback booked");
                self.event("callback_stored", json!({ "callback": id }));
                self.sh.callbacks_changed();
            }
            Err(e) => {
                // The caller was told nothing yet: they go back to the queue for the next
                // agent.
                tracing::error!("the callback cannot be stored: {e}");
                self.event("callback_failed", json!({ "why": e.to_string() }));
                let now = self.now();
                self.core.handle(now, core::Input::CallbackNotStored);
                return;
            }
        }
        self.speak_callback("callback_booked", Some(number), move |spoken| {
            Done::CallbackWords {
                seq,
                booked: true,
                spoken,
            }
        });
    }

    /// The callback words `seq` are ready: the offer plays (then hold music); the confirmation
    /// plays and the core hears how long, to hang up after it.
    pub(super) fn callback_words(
        &mut self,
        seq: u64,
        booked: bool,
        spoken: Option<(String, Prompt)>,
    ) {
        if seq != self.announcement {
            return;
        }
        let plays = spoken
            .as_ref()
            .map_or(Duration::ZERO, |(_, p)| p.duration());
        if let Some((text, prompt)) = spoken {
            tracing::info!(booked, "callback words playing: \"{text}\"");
            self.caption(crate::live::captions::Caption::line(&text));
            self.media.lock().playout.hold(vec![prompt]);
        }
        if booked {
            let now = self.now();
            self.core
                .handle(now, core::Input::CallbackConfirming(plays));
        }
    }
}
