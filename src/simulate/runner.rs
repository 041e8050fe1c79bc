//! The fake-time driver: plays the IO layer's part for the engine, faster than real time.

use super::report::{Report, SimEvent, SimKind, Summary};
use super::script::{CallerAction, ScriptLine, When};
use crate::engine::{Action, Call, Event, Fault, Pace, Program, Trace, Utterance};
use crate::media::Pacing;
use crate::prompts::PromptCatalog;
use crate::text::syllable_count;
use std::sync::Arc;
use std::time::Duration;

/// Time between keys of a `dtmf 123` line.
const KEY_GAP: Duration = Duration::from_millis(250);
/// How far into a playing prompt a `during` action happens.
const DURING_OFFSET: Duration = Duration::from_millis(500);

/// How a simulated call starts, beyond its plan.
#[derive(Debug, Clone, Default)]
pub struct SimStart {
    /// Elderly pacing of prompts.
    pub pacing: Pacing,
    /// Wall-clock time the call starts (Unix seconds); default: now.
    pub wall_clock: Option<i64>,
    /// The operator's emergency "closed now", with why.
    pub closed_now: Option<String>,
    /// The caller's number or SIP user (the variable `caller`).
    pub caller: Option<String>,
}

/// Parses "2026-12-25T10:00" or "2026-12-25 10:00:00", optionally ending in "Z" or an offset
/// ("+08:00"; none means UTC), into Unix seconds.
pub fn parse_clock(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_at(s.find(['T', ' '])?);
    let rest = &rest[1..];
    let (time, offset) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let day = crate::dialplan::hours::parse_date(date).ok()?;
    let mut hms = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m) = (hms.next()??, hms.next()??);
    let sec = hms.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    let off = match offset {
        "" | "Z" => 0,
        o => i64::from(
            crate::dialplan::tz::Zone::load(o, std::path::Path::new("/nonexistent"))
                .ok()?
                .offset_at(0),
        ),
    };
    Some(day * 86_400 + h * 3600 + m * 60 + sec - off)
}

/// Runs one call of a [`Program`] against caller script lines, on a simulated clock.
///
/// Prompts take as long as their WAV files (in elderly mode as long as their slower
/// renderings); timers fire when the clock passes them; an utterance
/// is delivered one endpointing window after the caller stops, as the media layer would.
pub struct Simulator {
    call: Call,
    catalog: PromptCatalog,
    /// Lookup answers to deliver once the current actions are carried out.
    pending_answers: Vec<(u32, Result<serde_json::Value, String>)>,
    /// A lookup waiting for the script's `lookup` line.
    lookup_pending: Option<u32>,
    /// Catalogues of the other languages the call switched to, read when first needed.
    others: Vec<(crate::dialplan::Language, PromptCatalog)>,
    pacing: Pacing,
    now: Duration,
    playing: Option<(u32, Duration)>,
    timers: Vec<Duration>,
    listen_since: Option<Duration>,
    endpoint: Duration,
    events: Vec<SimEvent>,
    reported: usize,
}

impl Simulator {
    /// Starts a call (the line answers at t = 0 and begins its first node).
    pub fn start(prog: Arc<Program>, catalog: PromptCatalog) -> Self {
        Self::start_paced(prog, catalog, Pacing::default())
    }

    /// Starts a call whose prompts play at `pacing` once it is in elderly mode (`[elderly]`
    /// of `humanline.toml`; [`start`](Self::start) uses the defaults).
    pub fn start_paced(prog: Arc<Program>, catalog: PromptCatalog, pacing: Pacing) -> Self {
        Self::start_with(
            prog,
            catalog,
            SimStart {
                pacing,
                ..Default::default()
            },
        )
    }

    /// Starts a call as `start` says: the wall clock hours nodes judge by (fixed, so a run
    /// repeats exactly), the operator's "closed now", who calls.
    pub fn start_with(prog: Arc<Program>, catalog: PromptCatalog, start: SimStart) -> Self {
        let mut call = Call::new(prog);
        let clock = start.wall_clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
        call.set_wall_clock(clock);
        if let Some(why) = &start.closed_now {
            call.close_now(why);
        }
        if let Some(caller) = &start.caller {
            call.set_caller(caller);
        }
        let mut s = Simulator {
            call,
            catalog,
            others: Vec::new(),
            pending_answers: Vec::new(),
            lookup_pending: None,
            pacing: start.pacing,
            now: Duration::ZERO,
            playing: None,
            timers: Vec::new(),
            listen_since: None,
            endpoint: Duration::from_millis(700),
            events: Vec::new(),
            reported: 0,
        };
        s.send(Event::Start);
        s
    }

    /// The call under simulation.
    pub fn call(&self) -> &Call {
        &self.call
    }

    /// Simulated time now.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// True once the call has ended.
    pub fn ended(&self) -> bool {
        self.call.outcome().is_some()
    }

    /// Every event so far.
    pub fn events(&self) -> &[SimEvent] {
        &self.events
    }

    /// Events recorded since the last call of this method (for interactive output).
    pub fn new_events(&mut self) -> &[SimEvent] {
        let from = self.reported;
        self.reported = self.events.len();
        &self.events[from..]
    }

    /// Treats the caller as elderly from the start.
    pub fn set_elderly(&mut self) {
        self.call.set_elderly();
    }

    /// Lets prompts play until the call waits for the caller or ends.
    pub fn run_until_waiting(&mut self) {
        self.settle();
    }

    /// Performs one caller action. Lines after the end of the call are ignored.
    pub fn apply(&mut self, line: &ScriptLine) {
        if self.ended() {
            return;
        }
        let at = match line.when {
            When::During => match self.playing {
                Some((_, end)) => self.now + DURING_OFFSET.min(end.saturating_sub(self.now)),
                None => self.now,
            },
            When::After(d) => {
                self.settle();
                self.now.max(self.listen_since.unwrap_or(self.now)) + d
            }
        };
        self.advance_to(at);
        if self.ended() {
            return;
        }
        match &line.action {
            CallerAction::Say {
                text,
                segments,
                pauses,
                rate,
                rising,
            } => self.say(text, segments, pauses, *rate, *rising),
            CallerAction::Dtmf(keys) => {
                // Keys into a sensitive number are not echoed either.
                let shown = if self.call.masks_keys() {
                    keys.iter().map(|_| '•').collect()
                } else {
                    keys.iter().collect()
                };
                self.record(SimKind::Caller {
                    says: None,
                    keys: Some(shown),
                });
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        self.advance_to(self.now + KEY_GAP);
                    }
                    self.send(Event::Digit(*k));
                }
            }
            CallerAction::Silence(d) => self.advance_to(self.now + *d),
            CallerAction::Fault(kind, detail) => {
                let kind_name = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                self.record(SimKind::Fault {
                    kind: kind_name,
                    detail: detail.clone(),
                });
                self.send(Event::Fault(Fault {
                    kind: *kind,
                    detail: detail.clone(),
                }));
            }
            CallerAction::Hangup => self.send(Event::CallerHangup),
            CallerAction::LookupAnswer(result) => {
                if let Some(id) = self.lookup_pending.take() {
                    self.send(Event::LookupDone {
                        id,
                        result: result.clone(),
                    });
                }
            }
        }
    }

    /// Ends the simulation: prompts still playing finish (a goodbye, a "connecting you"), then a
    /// call still waiting for the caller ends as if the caller hung up.
    pub fn finish(mut self) -> Report {
        self.settle();
        if !self.ended() {
            self.send(Event::CallerHangup);
        }
        let outcome = self
            .call
            .outcome()
            .cloned()
            .unwrap_or(crate::engine::Outcome::Hangup);
        if matches!(outcome, crate::engine::Outcome::Hangup) {
            self.record(SimKind::Hangup {
                by: "caller".into(),
            });
        }
        let ctx = self
            .call
            .transfer_context()
            .cloned()
            .unwrap_or_else(|| self.call.snapshot());
        let summary = Summary::new(&outcome, &ctx, self.now.as_secs_f64());
        Report {
            events: self.events,
            summary,
            outcome,
            context: ctx,
        }
    }

    fn say(
        &mut self,
        text: &str,
        segments: &[String],
        pauses: &[Duration],
        rate: f64,
        rising: bool,
    ) {
        let started = self.now;
        self.record(SimKind::Caller {
            says: Some(self.call.shown_caller_text(text)),
            keys: None,
        });
        self.send(Event::SpeechStarted);
        let spoken: Duration = segments
            .iter()
            .map(|s| Duration::from_secs_f64((syllable_count(s) as f64 / rate).max(0.2)))
            .sum();
        let ended = started + spoken + pauses.iter().sum::<Duration>();
        self.advance_to(ended + self.endpoint);
        self.send(Event::Utterance(Utterance {
            text: text.to_string(),
            started,
            ended,
            pauses: pauses.to_vec(),
            confidence: None,
            doubt: None,
            // A question-like ending, as the pitch tracker would measure it.
            prosody: rising.then(|| crate::media::Prosody {
                final_rise_semitones: 4.0,
                range_semitones: 6.0,
                median_hz: 150.0,
                level_dbfs: -20.0,
                voiced_frames: 50,
            }),
        }));
    }

    /// Lets prompts play out until the call waits for the caller (or ends).
    fn settle(&mut self) {
        while let Some((_, end)) = self.playing {
            if self.ended() {
                break;
            }
            self.advance_to(end);
        }
    }

    /// Moves the clock to `t`, firing prompt ends and timers due on the way, in time order.
    fn advance_to(&mut self, t: Duration) {
        loop {
            let prompt_end = self.playing.map(|(_, end)| end);
            let timer = self.timers.iter().copied().min();
            let next = match (prompt_end, timer) {
                (Some(p), Some(q)) => p.min(q),
                (Some(p), None) => p,
                (None, Some(q)) => q,
                (None, None) => break,
            };
            if next > t || self.ended() {
                break;
            }
            self.now = self.now.max(next);
            if prompt_end == Some(next) {
                if let Some((id, _)) = self.playing.take() {
                    self.send(Event::PromptFinished { id });
                }
            } else {
                self.timers.retain(|x| *x != next);
                self.send(Event::Timer);
            }
        }
        self.now = self.now.max(t);
    }

    fn send(&mut self, ev: Event) {
        let actions = self.call.handle(self.now, ev);
        for a in actions {
            self.carry_out(a);
        }
        for (id, result) in std::mem::take(&mut self.pending_answers) {
            self.send(Event::LookupDone { id, result });
        }
    }

    fn carry_out(&mut self, a: Action) {
        match a {
            Action::Play { id, prompt, pace } => {
                // A sensitive number read back is shown as the transcript has it.
                let masked = prompt.starts_with("digit_") && self.call.masks_keys();
                let text = if masked {
                    "•".to_string()
                } else {
                    self.prompt_text(&prompt)
                };
                let pacing = self.pacing;
                let lasts = self.catalog_now().duration_at(&prompt, pace, &pacing);
                self.playing = Some((id, self.now + lasts));
                self.record(SimKind::Play {
                    prompt: if masked { "digit_•".into() } else { prompt },
                    text,
                    seconds: (lasts.as_secs_f64() * 100.0).round() / 100.0,
                    slow: pace == Pace::Slow,
                });
            }
            Action::PlayText {
                id,
                prompt,
                text,
                pace,
            } => {
                // Spoken by the speech engine at run time: as long as its syllables take.
                let secs = (crate::text::syllable_count(&text) as f64 / 3.5).max(0.5);
                let secs = if pace == Pace::Slow { secs * 1.3 } else { secs };
                self.playing = Some((id, self.now + Duration::from_secs_f64(secs)));
                // Shown as the transcript has it: sensitive values masked.
                let text = self.call.last_prompt_text().map_or(text, str::to_string);
                self.record(SimKind::Play {
                    prompt,
                    text,
                    seconds: (secs * 100.0).round() / 100.0,
                    slow: pace == Pace::Slow,
                });
            }
            Action::StopPlayback => {
                if self.playing.take().is_some() {
                    self.record(SimKind::StopPlayback);
                }
            }
            Action::Listen {
                endpoint_silence,
                no_input,
                ..
            } => {
                self.listen_since = Some(self.now);
                self.endpoint = endpoint_silence;
                self.record(SimKind::Listen {
                    no_input: no_input.as_secs_f64(),
                    endpoint_silence: endpoint_silence.as_secs_f64(),
                });
            }
            Action::Lookup { id, request } => {
                self.record(SimKind::LookupRequest {
                    request: format!("{} {}", request.method, self.call.mask_text(&request.url)),
                });
                // The bundled demo endpoint answers at once; any other waits for a script
                // line `lookup {json}` / `lookup fail why`, or times out.
                match crate::lookup::demo::answer(&request.url) {
                    Some(result) => self.pending_answers.push((id, result)),
                    None => self.lookup_pending = Some(id),
                }
            }
            Action::WakeAt(t) => self.timers.push(t),
            // The simulator's caller types whole turns: there is no utterance under way to end.
            Action::EndTurnAfter(_) => {}
            Action::Transfer {
                queue,
                context,
                announce,
            } => {
                self.playing = None;
                self.record(SimKind::Transfer {
                    queue,
                    reason: context.reason,
                    summary: context.summary.clone(),
                });
                // Played to the caller while the agents ring: the hand-off does not wait for it.
                let pace = if context.elderly {
                    Pace::Slow
                } else {
                    Pace::Normal
                };
                for prompt in announce {
                    let text = self.prompt_text(&prompt);
                    let pacing = self.pacing;
                    let lasts = self.catalog_now().duration_at(&prompt, pace, &pacing);
                    self.record(SimKind::Play {
                        prompt,
                        text,
                        seconds: (lasts.as_secs_f64() * 100.0).round() / 100.0,
                        slow: pace == Pace::Slow,
                    });
                }
            }
            Action::Hangup => {
                self.playing = None;
                self.record(SimKind::Hangup { by: "line".into() });
            }
            Action::Trace(t) => {
                let kind = match t {
                    Trace::Node { node } => SimKind::Node { node },
                    Trace::Heard { text, intent } => SimKind::Heard { text, intent },
                    Trace::Digit { .. } => return,
                    Trace::NoInput { waited } => SimKind::NoInput { waited },
                    Trace::Hesitation { score, signals } => SimKind::Hesitation {
                        score: (score * 1000.0).round() / 1000.0,
                        signals,
                    },
                    Trace::ElderlyMode { why } => SimKind::Elderly { why },
                    Trace::Repeat { prompt, .. } => SimKind::Repeat { prompt },
                    Trace::TypeAhead { node, keys } => SimKind::TypeAhead { node, keys },
                    Trace::Collected { node, var, value } => {
                        SimKind::Collected { node, var, value }
                    }
                    Trace::Rejected { node, why } => SimKind::Rejected { node, why },
                    Trace::Lookup { node, outcome } => SimKind::Lookup { node, outcome },
                    Trace::Language { language } => SimKind::Language {
                        language: language.code().to_string(),
                    },
                    Trace::Hours {
                        node,
                        status,
                        local,
                    } => SimKind::Hours {
                        node,
                        status,
                        local,
                    },
                };
                self.record(kind);
            }
        }
    }

    /// The catalogue of the language the call speaks now (a language node may switch it).
    fn catalog_now(&mut self) -> &PromptCatalog {
        let lang = self.call.language();
        let own = self.catalog.dir().file_name().and_then(|f| f.to_str()) == Some(lang.code());
        if own {
            return &self.catalog;
        }
        if !self.others.iter().any(|(l, _)| *l == lang) {
            let root = self
                .catalog
                .dir()
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            self.others.push((lang, PromptCatalog::load(&root, lang)));
        }
        self.others
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or(&self.catalog, |(_, c)| c)
    }

    fn prompt_text(&mut self, prompt: &str) -> String {
        self.catalog_now()
            .texts()
            .get(prompt)
            .cloned()
            .unwrap_or_else(|| format!("[{prompt}]"))
    }

    fn record(&mut self, kind: SimKind) {
        self.events.push(SimEvent {
            t: (self.now.as_secs_f64() * 100.0).round() / 100.0,
            kind,
        });
    }
}
