//! After the engine hands a caller to a queue: wait in the queue (position and wait
//! announcements), ring the agent the ACD offers, bridge the one who answers, put the caller back
//! at the head of the queue if the agent's leg drops, and after the longest wait let the caller
//! leave a message. Never a silent drop: every path ends with a person or a recorded message.
//!
//! Sans-IO like the engine: `handle(now, Input)` in, [`Step`]s out, time passed in. Who is
//! offered is the ACD's business ([`crate::agents`]); this machine only follows one caller.

pub mod brief;

use crate::agents::{Reach, RingResult};
use std::time::Duration;

/// Timings of one queue.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How long an agent may ring.
    pub ring_timeout: Duration,
    /// Longest wait before the caller may leave a message.
    pub max_wait: Duration,
    /// Time between position announcements.
    pub announce_every: Duration,
    /// Longest message.
    pub message_max: Duration,
    /// Warm transfer: a SIP agent who answers first hears a spoken brief and has this long
    /// (from answering) to press 1 to take the caller or 2 to pass them on; `None` bridges at
    /// once (cold). Browser agents see the screen pop before they accept, so this is for
    /// phones only.
    pub brief: Option<Duration>,
    /// Callbacks: the caller is offered one when the expected wait is at least this long, or
    /// when nobody staffs the queue; `None`: never.
    pub callback_after: Option<Duration>,
}

/// How long the caller has to answer the callback offer (it is spoken in this time, and a
/// number may be keyed): then they keep waiting as before.
pub const CALLBACK_OFFER_WAIT: Duration = Duration::from_secs(40);
/// How long the confirmation of a booked callback may take before the line hangs up, when the
/// shell never says how long it plays.
const BOOKED_WAIT: Duration = Duration::from_secs(20);

/// The first announcement comes this long after joining, unless an agent rings before.
const FIRST_ANNOUNCEMENT: Duration = Duration::from_millis(1500);

/// What happened on the agent side (or to the caller) since the hand-off began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The ACD offers this caller to an agent.
    Offered {
        /// Agent name (or static URI).
        agent: String,
        /// How to reach them.
        reach: Reach,
    },
    /// The agent being rung answered (200 OK / browser accepted, media agreed).
    AgentAnswered,
    /// An agent hearing the brief chose: `true` takes the caller (key 1), `false` passes
    /// them on (key 2).
    AgentChose(bool),
    /// The agent being rung refused, failed or could not be reached (final status, 0 for a
    /// transport failure).
    AgentFailed(u16),
    /// The bridged agent hung up.
    AgentHungUp,
    /// The bridged agent's leg dropped (no media, browser gone) without a hang-up.
    AgentDropped,
    /// The caller hung up.
    CallerHungUp,
    /// The apology and the tone have played: the caller's message is being recorded now.
    RecordingStarted,
    /// The queue's current estimate of the caller's wait (after joining, and with each
    /// announcement): a long one brings the callback offer.
    WaitEstimate(Duration),
    /// The caller answered the callback offer: `true` books it, `false` keeps waiting.
    CallbackChoice(bool),
    /// The booked callback's confirmation started; it plays for this long, then the line
    /// hangs up.
    CallbackConfirming(Duration),
    /// The bridged agent handed the caller to the agent they consulted (attended transfer):
    /// that agent is on the call from now.
    AgentReplaced(String),
    /// The booked callback could not be stored: the caller goes back to the queue, at its
    /// head (never hung up on with nothing booked).
    CallbackLost,
    /// A deadline from [`Handoff::deadline`] may have passed.
    Timer,
}

/// What the IO side must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Join the queue (at the head after a dropped agent leg).
    Join {
        /// Requeued after a drop.
        head: bool,
    },
    /// Leave the queue.
    Leave,
    /// The caller hears ringback.
    Ringback,
    /// Tell the caller their position and the expected wait, then hold music.
    Announce,
    /// Ring this agent.
    Dial {
        /// Agent name.
        agent: String,
        /// Where.
        reach: Reach,
    },
    /// Give up on the agent being rung (CANCEL / stop the console ringing).
    Cancel,
    /// Tell the ACD how the offer ended.
    RingEnded {
        /// Agent name.
        agent: String,
        /// How.
        result: RingResult,
    },
    /// Connect the caller and the answering agent.
    Bridge,
    /// Play the spoken brief to the agent who answered (warm transfer); the caller keeps
    /// hearing what they heard.
    Brief,
    /// The agent's part is over (wrap-up starts); `talked` is the bridged time.
    AgentDone {
        /// Agent name.
        agent: String,
        /// Time bridged.
        talked: Duration,
        /// The leg dropped rather than hung up.
        dropped: bool,
    },
    /// Nobody answered in time: apologise, beep, record the caller's message.
    StartMessage,
    /// Hang up the agent's leg.
    HangUpAgent,
    /// End the caller's leg (agent left, or the message time is up).
    HangUpCaller,
    /// Offer the caller a callback (key 1 or "yes"), hold music after it.
    OfferCallback,
    /// The caller took the callback: store it (with the caller's place in line) and confirm
    /// it to them.
    BookCallback,
}

/// Where the hand-off stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for an agent.
    Queued {
        /// Next position announcement.
        announce_at: Duration,
    },
    /// Ringing `agent` until `deadline`.
    Ringing {
        /// Agent name.
        agent: String,
        /// Ring timeout.
        deadline: Duration,
        /// A phone: the brief comes before the bridge when the queue is warm.
        phone: bool,
    },
    /// `agent` answered and hears the brief; their choice is due by `deadline`.
    Briefing {
        /// Agent name.
        agent: String,
        /// When silence counts as a pass.
        deadline: Duration,
    },
    /// Talking to an agent since `since`.
    Bridged {
        /// Agent name.
        agent: String,
        /// When the bridge began.
        since: Duration,
    },
    /// The caller hears the apology and the tone; then the message is recorded until
    /// `deadline` (set when recording starts).
    Message {
        /// End of the longest message, once recording started.
        deadline: Option<Duration>,
    },
    /// The caller hears the callback offer and may answer it until `deadline`; `queued`:
    /// they keep their place in the queue meanwhile (false when nobody staffs it: declining
    /// then leads to the message).
    OfferingCallback {
        /// When no answer counts as "keep waiting".
        deadline: Duration,
        /// In the queue meanwhile.
        queued: bool,
    },
    /// The callback is booked; the caller hears the confirmation, then the line hangs up at
    /// `deadline`.
    CallbackBooked {
        /// When the line hangs up.
        deadline: Duration,
    },
    /// Over.
    Done,
}

/// The hand-off of one caller.
#[derive(Debug, Clone)]
pub struct Handoff {
    rules: Rules,
    give_up_at: Duration,
    stage: Stage,
    requeued: u32,
    /// The callback was offered already (once per hand-off).
    callback_offered: bool,
}

impl Handoff {
    /// Starts at `now`. A queue nobody staffs sends the caller straight to leaving a message;
    /// otherwise the caller joins the queue and hears ringback.
    pub fn start(now: Duration, rules: Rules, staffed: bool) -> (Handoff, Vec<Step>) {
        Handoff::start_at(now, rules, staffed, false)
    }

    /// [`Handoff::start`], joining the queue at its head when `head` (a caller an agent passed
    /// on has waited already).
    pub fn start_at(
        now: Duration,
        rules: Rules,
        staffed: bool,
        head: bool,
    ) -> (Handoff, Vec<Step>) {
        let mut h = Handoff {
            rules,
            give_up_at: now + rules.max_wait,
            stage: Stage::Done,
            requeued: 0,
            callback_offered: false,
        };
        let out = if !staffed && rules.callback_after.is_some() {
            h.offer_callback(now, false)
        } else if staffed {
            h.stage = Stage::Queued {
                announce_at: now + FIRST_ANNOUNCEMENT,
            };
            vec![Step::Join { head }, Step::Ringback]
        } else {
            h.stage = Stage::Message { deadline: None };
            vec![Step::StartMessage]
        };
        (h, out)
    }

    /// Where the hand-off stands.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// How many times the caller went back to the queue after a dropped agent leg.
    pub fn requeued(&self) -> u32 {
        self.requeued
    }

    /// The agent being rung or talked to.
    pub fn current_agent(&self) -> Option<&str> {
        match &self.stage {
            Stage::Ringing { agent, .. }
            | Stage::Briefing { agent, .. }
            | Stage::Bridged { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// The next time [`Input::Timer`] is wanted.
    pub fn deadline(&self) -> Option<Duration> {
        match self.stage {
            Stage::Queued { announce_at } => Some(announce_at.min(self.give_up_at)),
            Stage::Ringing { deadline, .. } | Stage::Briefing { deadline, .. } => Some(deadline),
            Stage::Message { deadline } => deadline,
            Stage::OfferingCallback { deadline, .. } | Stage::CallbackBooked { deadline } => {
                Some(deadline)
            }
            _ => None,
        }
    }

    /// Whether the caller is hearing the callback offer (their keys and words answer it).
    pub fn offering_callback(&self) -> bool {
        matches!(self.stage, Stage::OfferingCallback { .. })
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Duration, input: Input) -> Vec<Step> {
        let mut out = Vec::new();
        match (self.stage.clone(), input) {
            (Stage::Queued { .. }, Input::WaitEstimate(wait))
                if !self.callback_offered
                    && self.rules.callback_after.is_some_and(|after| wait >= after) =>
            {
                out = self.offer_callback(now, true);
            }
            (Stage::OfferingCallback { queued, .. }, Input::CallbackChoice(true)) => {
                if queued {
                    out.push(Step::Leave);
                }
                out.push(Step::BookCallback);
                self.stage = Stage::CallbackBooked {
                    deadline: now + BOOKED_WAIT,
                };
            }
            (Stage::OfferingCallback { queued, .. }, Input::CallbackChoice(false)) => {
                self.keep_waiting(now, queued, &mut out);
            }
            (Stage::OfferingCallback { queued, deadline }, Input::Timer) if now >= deadline => {
                self.keep_waiting(now, queued, &mut out);
            }
            // An agent came free while the offer played: the caller goes to them.
            (Stage::OfferingCallback { queued: true, .. }, Input::Offered { agent, reach }) => {
                self.stage = Stage::Queued { announce_at: now };
                out = self.handle(now, Input::Offered { agent, reach });
            }
            (Stage::OfferingCallback { queued, .. }, Input::CallerHungUp) => {
                if queued {
                    out.push(Step::Leave);
                }
                self.stage = Stage::Done;
            }
            (Stage::CallbackBooked { .. }, Input::CallbackConfirming(plays)) => {
                self.stage = Stage::CallbackBooked {
                    deadline: now + plays + Duration::from_millis(300),
                };
            }
            (Stage::Bridged { .. }, Input::AgentReplaced(agent)) => {
                self.stage = Stage::Bridged { agent, since: now };
            }
            (Stage::CallbackBooked { .. }, Input::CallbackLost) => {
                out.push(Step::Join { head: true });
                out.push(Step::Ringback);
                self.stage = Stage::Queued {
                    announce_at: now + FIRST_ANNOUNCEMENT,
                };
            }
            (Stage::CallbackBooked { deadline }, Input::Timer) if now >= deadline => {
                out.push(Step::HangUpCaller);
                self.stage = Stage::Done;
            }
            (Stage::CallbackBooked { .. }, Input::CallerHungUp) => self.stage = Stage::Done,
            (Stage::Queued { .. }, Input::Offered { agent, reach }) => {
                out.push(Step::Ringback);
                let phone = !matches!(reach, Reach::Browser);
                out.push(Step::Dial {
                    agent: agent.clone(),
                    reach,
                });
                self.stage = Stage::Ringing {
                    agent,
                    deadline: now + self.rules.ring_timeout,
                    phone,
                };
            }
            (Stage::Queued { announce_at }, Input::Timer) => {
                if now >= self.give_up_at {
                    out.push(Step::Leave);
                    self.go_to_message(&mut out);
                } else if now >= announce_at {
                    out.push(Step::Announce);
                    self.stage = Stage::Queued {
                        announce_at: now + self.rules.announce_every,
                    };
                }
            }
            (Stage::Queued { .. }, Input::CallerHungUp) => {
                out.push(Step::Leave);
                self.stage = Stage::Done;
            }
            (Stage::Ringing { agent, phone, .. }, Input::AgentAnswered) => {
                match self.rules.brief.filter(|_| phone) {
                    Some(choose) => {
                        out.push(Step::Brief);
                        self.stage = Stage::Briefing {
                            agent,
                            deadline: now + choose,
                        };
                    }
                    None => self.bridge(now, agent, &mut out),
                }
            }
            (Stage::Briefing { agent, .. }, Input::AgentChose(true)) => {
                self.bridge(now, agent, &mut out);
            }
            (Stage::Briefing { agent, .. }, Input::AgentChose(false)) => {
                out.push(Step::HangUpAgent);
                self.refused(now, agent, &mut out);
            }
            (Stage::Briefing { agent, deadline }, Input::Timer) if now >= deadline => {
                out.push(Step::HangUpAgent);
                self.refused(now, agent, &mut out);
            }
            (
                Stage::Briefing { agent, .. },
                Input::AgentHungUp | Input::AgentFailed(_) | Input::AgentDropped,
            ) => {
                self.refused(now, agent, &mut out);
            }
            (Stage::Briefing { agent, .. }, Input::CallerHungUp) => {
                out.push(Step::HangUpAgent);
                out.push(Step::RingEnded {
                    agent,
                    result: RingResult::Withdrawn,
                });
                out.push(Step::Leave);
                self.stage = Stage::Done;
            }
            (Stage::Ringing { agent, .. }, Input::AgentFailed(_)) => {
                self.refused(now, agent, &mut out);
            }
            (
                Stage::Ringing {
                    agent, deadline, ..
                },
                Input::Timer,
            ) if now >= deadline => {
                out.push(Step::Cancel);
                self.refused(now, agent, &mut out);
            }
            (Stage::Ringing { agent, .. }, Input::CallerHungUp) => {
                out.push(Step::Cancel);
                out.push(Step::RingEnded {
                    agent,
                    result: RingResult::Withdrawn,
                });
                out.push(Step::Leave);
                self.stage = Stage::Done;
            }
            (Stage::Bridged { agent, since }, Input::AgentHungUp | Input::AgentFailed(_)) => {
                out.push(Step::AgentDone {
                    agent,
                    talked: now.saturating_sub(since),
                    dropped: false,
                });
                out.push(Step::HangUpCaller);
                self.stage = Stage::Done;
            }
            (Stage::Bridged { agent, since }, Input::AgentDropped) => {
                out.push(Step::HangUpAgent);
                out.push(Step::AgentDone {
                    agent,
                    talked: now.saturating_sub(since),
                    dropped: true,
                });
                out.push(Step::Join { head: true });
                out.push(Step::Announce);
                self.requeued += 1;
                self.give_up_at = now + self.rules.max_wait;
                self.stage = Stage::Queued {
                    announce_at: now + self.rules.announce_every,
                };
            }
            (Stage::Bridged { agent, since }, Input::CallerHungUp) => {
                out.push(Step::HangUpAgent);
                out.push(Step::AgentDone {
                    agent,
                    talked: now.saturating_sub(since),
                    dropped: false,
                });
                self.stage = Stage::Done;
            }
            (Stage::Message { deadline: None }, Input::RecordingStarted) => {
                self.stage = Stage::Message {
                    deadline: Some(now + self.rules.message_max),
                };
            }
            (Stage::Message { deadline: Some(d) }, Input::Timer) if now >= d => {
                out.push(Step::HangUpCaller);
                self.stage = Stage::Done;
            }
            (Stage::Message { .. }, Input::CallerHungUp) => self.stage = Stage::Done,
            _ => {}
        }
        out
    }

    fn bridge(&mut self, now: Duration, agent: String, out: &mut Vec<Step>) {
        out.push(Step::RingEnded {
            agent: agent.clone(),
            result: RingResult::Answered,
        });
        out.push(Step::Bridge);
        self.stage = Stage::Bridged { agent, since: now };
    }

    /// The agent being rung did not take the call: back to waiting (the ACD offers the next
    /// agent), or to the message when the wait is over.
    fn refused(&mut self, now: Duration, agent: String, out: &mut Vec<Step>) {
        out.push(Step::RingEnded {
            agent,
            result: RingResult::Refused,
        });
        if now >= self.give_up_at {
            out.push(Step::Leave);
            self.go_to_message(out);
        } else {
            self.stage = Stage::Queued {
                announce_at: now.max(now + FIRST_ANNOUNCEMENT),
            };
        }
    }

    /// The callback offer starts (`queued`: the caller is in the queue meanwhile).
    fn offer_callback(&mut self, now: Duration, queued: bool) -> Vec<Step> {
        self.callback_offered = true;
        self.stage = Stage::OfferingCallback {
            deadline: now + CALLBACK_OFFER_WAIT,
            queued,
        };
        vec![Step::OfferCallback]
    }

    /// The caller declined the callback (or did not answer): back to waiting, or to the
    /// message when nobody staffs the queue or the longest wait is over.
    fn keep_waiting(&mut self, now: Duration, queued: bool, out: &mut Vec<Step>) {
        if !queued {
            return self.go_to_message(out);
        }
        if now >= self.give_up_at {
            out.push(Step::Leave);
            return self.go_to_message(out);
        }
        self.stage = Stage::Queued {
            announce_at: now + self.rules.announce_every,
        };
    }

    fn go_to_message(&mut self, out: &mut Vec<Step>) {
        out.push(Step::StartMessage);
        self.stage = Stage::Message { deadline: None };
    }
}

#[cfg(test)]
mod tests;
