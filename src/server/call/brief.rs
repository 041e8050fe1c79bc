//! A warm transfer's brief, the shell's side: the agent's language read from the store and the
//! brief spoken by the prompts' speech engine off the call's loop, then played to the agent's
//! leg on the 20 ms tick while the caller keeps hearing ringback or hold music; the agent's
//! keys (RFC 4733) go to the core, which decides. The brief has its own 20 ms timer while it
//! plays (the shared media clock plays to callers only): one call in a warm hand-off at a time
//! per agent, for a few seconds.

use super::*;
use crate::dialplan::Language;
use crate::media::{Player, Prompt};
use tokio::sync::oneshot;
use tokio::time::{Interval, MissedTickBehavior};

/// The brief of the agent being briefed, in its steps.
#[derive(Default)]
pub(super) struct WarmBrief {
    /// The spoken brief being made (store read and speech synthesis).
    making: Option<oneshot::Receiver<Result<Spoken, String>>>,
    /// The brief playing to the agent, and its 20 ms timer.
    player: Option<(Player, Interval)>,
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

/// What the brief needs next.
pub(super) enum BriefDue {
    /// It was made (or could not be).
    Spoken(Result<Spoken, String>),
    /// Its next 20 ms are due.
    Frame,
}

/// Waits for the brief's next step (forever when none is being made or played).
pub(super) async fn next(b: &mut WarmBrief) -> BriefDue {
    let WarmBrief { making, player, .. } = b;
    tokio::select! {
        r = async {
            match making.as_mut() {
                Some(rx) => rx.await.unwrap_or_else(|_| Err("the brief was not made".into())),
                None => std::future::pending().await,
            }
        } => {
            *making = None;
            BriefDue::Spoken(r)
        }
        () = async {
            match player.as_mut() {
                Some((_, every)) => {
                    every.tick().await;
                }
                None => std::future::pending().await,
            }
        } => BriefDue::Frame,
    }
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
                let mut every = tokio::time::interval(Duration::from_millis(20));
                every.set_missed_tick_behavior(MissedTickBehavior::Skip);
                self.brief.player = Some((Player::new(s.audio), every));
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

    /// Every 20 ms while the brief plays: its next frame to the agent.
    pub(super) async fn brief_tick(&mut self) {
        if !self.core.briefing() {
            if self.brief.keys.is_some() {
                self.end_brief();
            }
            return;
        }
        let Some((player, _)) = &mut self.brief.player else {
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
