//! After the engine hands a caller to a queue: wait in the queue (position and wait
//! announcements), ring the agent the ACD offers, bridge the one who answers, put the caller back
//! at the head of the queue if the agent's leg drops, and after the longest wait let the caller
//! leave a message. Never a silent drop: every path ends with a person or a recorded message.
//!
//! Sans-IO like the engine: `handle(now, Input)` in, [`Step`]s out, time passed in. Who is
//! offered is the ACD's business ([`crate::agents`]); this machine only follows one caller.

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
}

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
}

impl Handoff {
    /// Starts at `now`. A queue nobody staffs sends the caller straight to leaving a message;
    /// otherwise the caller joins the queue and hears ringback.
    pub fn start(now: Duration, rules: Rules, staffed: bool) -> (Handoff, Vec<Step>) {
        let mut h = Handoff {
            rules,
            give_up_at: now + rules.max_wait,
            stage: Stage::Done,
            requeued: 0,
        };
        let out = if staffed {
            h.stage = Stage::Queued {
                announce_at: now + FIRST_ANNOUNCEMENT,
            };
            vec![Step::Join { head: false }, Step::Ringback]
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
            Stage::Ringing { agent, .. } | Stage::Bridged { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// The next time [`Input::Timer`] is wanted.
    pub fn deadline(&self) -> Option<Duration> {
        match self.stage {
            Stage::Queued { announce_at } => Some(announce_at.min(self.give_up_at)),
            Stage::Ringing { deadline, .. } => Some(deadline),
            Stage::Message { deadline } => deadline,
            _ => None,
        }
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Duration, input: Input) -> Vec<Step> {
        let mut out = Vec::new();
        match (self.stage.clone(), input) {
            (Stage::Queued { .. }, Input::Offered { agent, reach }) => {
                out.push(Step::Ringback);
                out.push(Step::Dial {
                    agent: agent.clone(),
                    reach,
                });
                self.stage = Stage::Ringing {
                    agent,
                    deadline: now + self.rules.ring_timeout,
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
            (Stage::Ringing { agent, .. }, Input::AgentAnswered) => {
                out.push(Step::RingEnded {
                    agent: agent.clone(),
                    result: RingResult::Answered,
                });
                out.push(Step::Bridge);
                self.stage = Stage::Bridged { agent, since: now };
            }
            (Stage::Ringing { agent, .. }, Input::AgentFailed(_)) => {
                self.refused(now, agent, &mut out);
            }
            (Stage::Ringing { agent, deadline }, Input::Timer) if now >= deadline => {
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

    fn go_to_message(&mut self, out: &mut Vec<Step>) {
        out.push(Step::StartMessage);
        self.stage = Stage::Message { deadline: None };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn rules() -> Rules {
        Rules {
            ring_timeout: s(20),
            max_wait: s(120),
            announce_every: s(30),
            message_max: s(60),
        }
    }

    fn offer(agent: &str) -> Input {
        Input::Offered {
            agent: agent.into(),
            reach: Reach::Static(format!("sip:{agent}@h")),
        }
    }

    fn queued() -> Handoff {
        let (h, out) = Handoff::start(s(0), rules(), true);
        assert_eq!(out, vec![Step::Join { head: false }, Step::Ringback]);
        h
    }

    #[test]
    fn an_offered_agent_rings_and_answering_bridges() {
        let mut h = queued();
        let out = h.handle(s(0), offer("a"));
        assert_eq!(
            out[1],
            Step::Dial {
                agent: "a".into(),
                reach: Reach::Static("sip:a@h".into())
            }
        );
        assert_eq!(
            h.handle(s(3), Input::AgentAnswered),
            vec![
                Step::RingEnded {
                    agent: "a".into(),
                    result: RingResult::Answered
                },
                Step::Bridge
            ]
        );
        assert_eq!(h.current_agent(), Some("a"));
    }

    #[test]
    fn a_busy_agent_sends_the_caller_back_to_wait_for_the_next_offer() {
        let mut h = queued();
        h.handle(s(0), offer("a"));
        assert_eq!(
            h.handle(s(1), Input::AgentFailed(486)),
            vec![Step::RingEnded {
                agent: "a".into(),
                result: RingResult::Refused
            }]
        );
        assert!(matches!(h.stage(), Stage::Queued { .. }));
        h.handle(s(1), offer("b"));
        assert_eq!(h.current_agent(), Some("b"));
    }

    #[test]
    fn ring_timeout_cancels_and_counts_as_a_refusal() {
        let mut h = queued();
        h.handle(s(0), offer("a"));
        assert!(h.handle(s(19), Input::Timer).is_empty(), "not yet");
        assert_eq!(
            h.handle(s(20), Input::Timer),
            vec![
                Step::Cancel,
                Step::RingEnded {
                    agent: "a".into(),
                    result: RingResult::Refused
                }
            ]
        );
    }

    #[test]
    fn a_waiting_caller_hears_announcements_then_leaves_a_message() {
        let mut h = queued();
        assert_eq!(h.deadline(), Some(FIRST_ANNOUNCEMENT));
        assert_eq!(
            h.handle(FIRST_ANNOUNCEMENT, Input::Timer),
            vec![Step::Announce]
        );
        assert_eq!(h.deadline(), Some(FIRST_ANNOUNCEMENT + s(30)));
        assert_eq!(
            h.handle(FIRST_ANNOUNCEMENT + s(30), Input::Timer),
            vec![Step::Announce]
        );
        assert_eq!(
            h.handle(s(120), Input::Timer),
            vec![Step::Leave, Step::StartMessage]
        );
        assert_eq!(
            h.deadline(),
            None,
            "the apology and the tone are not message time"
        );
        h.handle(s(125), Input::RecordingStarted);
        assert_eq!(h.deadline(), Some(s(185)));
        assert_eq!(h.handle(s(185), Input::Timer), vec![Step::HangUpCaller]);
        assert_eq!(h.stage(), &Stage::Done);
    }

    #[test]
    fn an_unstaffed_queue_goes_straight_to_a_message() {
        let (mut h, out) = Handoff::start(s(0), rules(), false);
        assert_eq!(out, vec![Step::StartMessage]);
        h.handle(s(5), Input::RecordingStarted);
        assert_eq!(h.deadline(), Some(s(65)));
    }

    #[test]
    fn a_dropped_agent_leg_puts_the_caller_back_at_the_head() {
        let mut h = queued();
        h.handle(s(0), offer("a"));
        h.handle(s(2), Input::AgentAnswered);
        let out = h.handle(s(40), Input::AgentDropped);
        assert_eq!(
            out,
            vec![
                Step::HangUpAgent,
                Step::AgentDone {
                    agent: "a".into(),
                    talked: s(38),
                    dropped: true
                },
                Step::Join { head: true },
                Step::Announce
            ]
        );
        assert_eq!(h.requeued(), 1);
        // The wait starts again: no message at the old deadline.
        assert!(!h.handle(s(121), Input::Timer).contains(&Step::StartMessage));
        h.handle(s(50), offer("b"));
        assert_eq!(h.current_agent(), Some("b"));
    }

    #[test]
    fn hang_ups_on_either_side_of_a_bridge() {
        let mut h = queued();
        h.handle(s(0), offer("a"));
        h.handle(s(1), Input::AgentAnswered);
        assert_eq!(
            h.clone().handle(s(9), Input::AgentHungUp),
            vec![
                Step::AgentDone {
                    agent: "a".into(),
                    talked: s(8),
                    dropped: false
                },
                Step::HangUpCaller
            ]
        );
        assert_eq!(
            h.handle(s(9), Input::CallerHungUp),
            vec![
                Step::HangUpAgent,
                Step::AgentDone {
                    agent: "a".into(),
                    talked: s(8),
                    dropped: false
                }
            ]
        );
    }

    #[test]
    fn caller_hanging_up_while_an_agent_rings_cancels_it() {
        let mut h = queued();
        h.handle(s(0), offer("a"));
        assert_eq!(
            h.handle(s(2), Input::CallerHungUp),
            vec![
                Step::Cancel,
                Step::RingEnded {
                    agent: "a".into(),
                    result: RingResult::Withdrawn
                },
                Step::Leave
            ]
        );
        assert_eq!(h.deadline(), None);
    }
}
