//! A warm transfer's brief, the shell's side: the agent's language read from the store and the
//! brief spoken by the prompts' speech engine off the call's loop, then played to the agent's
//! leg on the 20 ms tick while the caller keeps hearing ringback or hold music; the agent's
//! keys (RFC 4733) go to the core, which decides.

use super::*;
use crate::dialplan::Language;
use crate::media::Prompt;
use tokio::sync::oneshot;

/// The brief of the agent being briefed, in its steps.
#[derive(Default)]
pub(super) struct WarmBrief {
    /// The spoken brief being made (store read and speech synthesis).
    making: Option<oneshot::Receiver<Result<Spoken, String>>>,
    /// The brief playing to the agent.
    player: Option<Player>,
    /// The agent's keys.
    keys: Option<Rfc4733Receiver>,
}

/// A brief, spoken.
pub(super) struct Spoken {
    agent: String,
    language: Language,
    text: String,
    audio: Prompt,
}

/// The brief being made, once it is ready (pending forever when none is being made).
pub(super) async fn next_spoken(b: &mut WarmBrief) -> Result<Spoken, String> {
    let Some(rx) = b.making.as_mut() else {
        return std::future::pending().await;
    };
    let r = rx
        .await
        .unwrap_or_else(|_| Err("the brief was not made".into()));
    b.making = None;
    r
}

impl CallTask {
    /// The core asks for the brief: it is written and spoken off the loop.
    pub(super) fn make_brief(&mut self, agent: String) {
        let Some((_, ctx)) = self.core.transfer().cloned() else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        self.brief = WarmBrief {
            making: Some(rx),
            player: None,
            keys: Some(Rfc4733Receiver::new()),
        };
        let store = self.sh.store.clone();
        let prompts = Arc::clone(&self.sh.prompts);
        tokio::spawn(async move {
            let who = agent.clone();
            let chosen = store.run(move |s| s.user_language(&who)).await;
            let language = match chosen {
                Ok(Some(code)) => Language::from_code(&code).unwrap_or(ctx.language),
                Ok(None) => ctx.language,
                Err(e) => {
                    tracing::warn!(agent, "the agent's language could not be read: {e}");
                    ctx.language
                }
            };
            let text = crate::server::handoff::brief::text(&ctx, language);
            let said = text.clone();
            let spoken =
                tokio::task::spawn_blocking(move || prompts.get_spoken(language.code(), &said))
                    .await;
            let r = match spoken {
                Ok(Ok(audio)) => Ok(Spoken {
                    agent,
                    language,
                    text,
                    audio,
                }),
                Ok(Err(e)) => Err(format!("the brief could not be spoken: {e}")),
                Err(e) => Err(format!("the brief could not be spoken: {e}")),
            };
            let _ = tx.send(r);
        });
    }

    /// The brief is spoken: it plays to the agent, if they still wait for it.
    pub(super) fn brief_ready(&mut self, r: Result<Spoken, String>) {
        match r {
            Ok(s) if self.core.briefing() => {
                let ms = s.audio.duration().as_millis() as u64;
                self.event(
                    "brief_spoken",
                    serde_json::json!({
                        "agent": s.agent,
                        "language": s.language.code(),
                        "text": s.text,
                        "ms": ms,
                    }),
                );
                self.brief.player = Some(Player::new(s.audio));
            }
            Ok(_) => {}
            Err(why) => {
                // The agent still hears nothing but silence and may press 1 or 2; the choice
                // is theirs until the deadline either way.
                tracing::warn!("{why}");
                self.event("brief_failed", serde_json::json!({ "why": why }));
            }
        }
    }

    /// The brief is over (bridged, passed, or the leg ended).
    pub(super) fn end_brief(&mut self) {
        self.brief = WarmBrief::default();
    }

    /// On each tick while briefing: the next 20 ms of the brief to the agent.
    pub(super) async fn brief_tick(&mut self) {
        if !self.core.briefing() {
            if self.brief.keys.is_some() {
                self.end_brief();
            }
            return;
        }
        let Some(player) = &mut self.brief.player else {
            return;
        };
        let mut frame = [0i16; FRAME];
        if !player.next_frame(&mut frame) {
            self.brief.player = None;
            return;
        }
        if let Some(a) = &mut self.agent_rtp {
            a.send_pcm(&frame, false, &self.sh.metrics).await;
        }
    }

    /// A telephone-event packet from the agent while they hear the brief.
    pub(super) fn brief_key(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        self.brief.keys.as_mut()?.on_packet(timestamp, payload)
    }
}
