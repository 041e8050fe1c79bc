//! The engine's actions that the shell carries out itself (the core keeps timers, the
//! hand-off and the hang-up): prompts, lookups, listening with the node's hints and end-of-turn
//! window, and the engine's traces as call events and live-view path.

use super::*;

impl CallTask {
    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::Play { id, prompt, pace } => self.play(id, &prompt, pace),
            Action::Lookup { id, request } => self.start_lookup(id, request),
            Action::PlayText {
                id, prompt, text, ..
            } => self.play_text(id, &prompt, text),
            Action::StopPlayback => {
                self.awaited_prompt = None;
                self.media.lock().playout.stop_prompt();
            }
            Action::Listen {
                hints,
                boost,
                endpoint_silence,
                ..
            } => {
                self.hints = hints;
                self.boost = boost;
                self.listening_since = Some(self.now());
                if let Some(l) = &mut self.media.lock().listener {
                    l.set_silence(endpoint_silence);
                }
            }
            Action::EndTurnAfter(silence) => {
                if let Some(l) = &mut self.media.lock().listener {
                    l.end_turn_after(silence);
                }
            }
            Action::Trace(t) => self.trace(t),
            // The core keeps these: timers, the hand-off and the hang-up are its decisions.
            Action::WakeAt(_) | Action::Transfer { .. } | Action::Hangup => {}
        }
    }

    fn trace(&mut self, t: Trace) {
        if let Trace::ElderlyMode { .. } = &t {
            self.warm_slow_prompts();
        }
        if let Trace::Node { node } = &t {
            let node = node.clone();
            self.sh.live.update(&self.id, |c| {
                c.path.push(node.clone());
                c.node = node;
            });
        }
        let detail = serde_json::to_value(&t).unwrap_or_default();
        let kind = detail
            .get("trace")
            .and_then(|k| k.as_str())
            .unwrap_or("trace")
            .to_string();
        self.event(&kind, detail);
    }
}
