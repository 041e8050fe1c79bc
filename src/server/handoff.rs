//! After the engine hands a caller to a queue: ring the queue's agents one after another, bridge
//! the first who answers, and when none does, let the caller leave a message. Never a silent
//! drop: every path ends with a person or a recorded message.
//!
//! Sans-IO like the engine: `handle(now, Input)` in, [`Step`]s out, time passed in.

use std::time::Duration;

/// What happened on the agent side (or to the caller) since the hand-off began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The agent being rung answered (200 OK, media agreed).
    AgentAnswered,
    /// The agent being rung refused, failed or could not be reached (final status, 0 for a
    /// transport failure or timeout).
    AgentFailed(u16),
    /// The bridged agent hung up.
    AgentHungUp,
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
    /// The caller hears ringback while agents are rung.
    Ringback,
    /// Place a call to this agent (configured URI; nothing else is ever called).
    Dial(String),
    /// Give up on the agent being rung (CANCEL).
    Cancel,
    /// Connect the caller and the answering agent.
    Bridge,
    /// Nobody answered: apologise, beep, record the caller's message.
    StartMessage,
    /// Hang up the agent's leg (the caller left).
    HangUpAgent,
    /// End the caller's leg (agent left, or the message time is up).
    HangUpCaller,
}

/// Where the hand-off stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Ringing `agents[index]` until `deadline`.
    Ringing {
        /// Index into the agent list.
        index: usize,
        /// Ring timeout.
        deadline: Duration,
    },
    /// Talking to an agent.
    Bridged,
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
    agents: Vec<String>,
    ring_timeout: Duration,
    message_max: Duration,
    stage: Stage,
}

impl Handoff {
    /// Starts ringing `agents` (in order) at `now`; with no agent the caller goes straight to
    /// leaving a message.
    pub fn start(
        now: Duration,
        agents: Vec<String>,
        ring_timeout: Duration,
        message_max: Duration,
    ) -> (Handoff, Vec<Step>) {
        let mut h = Handoff {
            agents,
            ring_timeout,
            message_max,
            stage: Stage::Done,
        };
        let mut out = Vec::new();
        h.try_agent(now, 0, &mut out);
        (h, out)
    }

    /// Where the hand-off stands.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// The agent being rung or talked to.
    pub fn current_agent(&self) -> Option<&str> {
        match self.stage {
            Stage::Ringing { index, .. } => self.agents.get(index).map(String::as_str),
            _ => None,
        }
    }

    /// The next time [`Input::Timer`] is wanted.
    pub fn deadline(&self) -> Option<Duration> {
        match self.stage {
            Stage::Ringing { deadline, .. } => Some(deadline),
            Stage::Message { deadline } => deadline,
            _ => None,
        }
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Duration, input: Input) -> Vec<Step> {
        let mut out = Vec::new();
        match (self.stage.clone(), input) {
            (Stage::Ringing { .. }, Input::AgentAnswered) => {
                self.stage = Stage::Bridged;
                out.push(Step::Bridge);
            }
            (Stage::Ringing { index, .. }, Input::AgentFailed(_)) => {
                self.try_agent(now, index + 1, &mut out);
            }
            (Stage::Ringing { index, deadline }, Input::Timer) if now >= deadline => {
                out.push(Step::Cancel);
                self.try_agent(now, index + 1, &mut out);
            }
            (Stage::Ringing { .. }, Input::CallerHungUp) => {
                out.push(Step::Cancel);
                self.stage = Stage::Done;
            }
            (Stage::Bridged, Input::AgentHungUp | Input::AgentFailed(_)) => {
                out.push(Step::HangUpCaller);
                self.stage = Stage::Done;
            }
            (Stage::Bridged, Input::CallerHungUp) => {
                out.push(Step::HangUpAgent);
                self.stage = Stage::Done;
            }
            (Stage::Message { deadline: None }, Input::RecordingStarted) => {
                self.stage = Stage::Message {
                    deadline: Some(now + self.message_max),
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

    fn try_agent(&mut self, now: Duration, index: usize, out: &mut Vec<Step>) {
        match self.agents.get(index) {
            Some(uri) => {
                if index == 0 {
                    out.push(Step::Ringback);
                }
                out.push(Step::Dial(uri.clone()));
                self.stage = Stage::Ringing {
                    index,
                    deadline: now + self.ring_timeout,
                };
            }
            None => {
                out.push(Step::StartMessage);
                self.stage = Stage::Message { deadline: None };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn two_agents() -> (Handoff, Vec<Step>) {
        Handoff::start(s(0), vec!["sip:a@h".into(), "sip:b@h".into()], s(20), s(60))
    }

    #[test]
    fn first_agent_rings_with_ringback_and_answering_bridges() {
        let (mut h, out) = two_agents();
        assert_eq!(out, vec![Step::Ringback, Step::Dial("sip:a@h".into())]);
        assert_eq!(h.handle(s(3), Input::AgentAnswered), vec![Step::Bridge]);
        assert_eq!(h.stage(), &Stage::Bridged);
    }

    #[test]
    fn busy_agent_passes_to_the_next() {
        let (mut h, _) = two_agents();
        assert_eq!(
            h.handle(s(1), Input::AgentFailed(486)),
            vec![Step::Dial("sip:b@h".into())]
        );
        assert_eq!(h.current_agent(), Some("sip:b@h"));
    }

    #[test]
    fn ring_timeout_cancels_and_tries_the_next() {
        let (mut h, _) = two_agents();
        assert!(h.handle(s(19), Input::Timer).is_empty(), "not yet");
        assert_eq!(
            h.handle(s(20), Input::Timer),
            vec![Step::Cancel, Step::Dial("sip:b@h".into())]
        );
    }

    #[test]
    fn nobody_answers_caller_leaves_a_message_then_the_line_hangs_up() {
        let (mut h, _) = two_agents();
        h.handle(s(1), Input::AgentFailed(486));
        assert_eq!(
            h.handle(s(2), Input::AgentFailed(0)),
            vec![Step::StartMessage]
        );
        assert_eq!(
            h.deadline(),
            None,
            "the apology and the tone are not message time"
        );
        h.handle(s(10), Input::RecordingStarted);
        assert_eq!(h.deadline(), Some(s(70)));
        assert!(h.handle(s(69), Input::Timer).is_empty());
        assert_eq!(h.handle(s(70), Input::Timer), vec![Step::HangUpCaller]);
        assert_eq!(h.stage(), &Stage::Done);
    }

    #[test]
    fn a_queue_without_agents_goes_straight_to_a_message() {
        let (mut h, out) = Handoff::start(s(0), vec![], s(20), s(30));
        assert_eq!(out, vec![Step::StartMessage]);
        h.handle(s(5), Input::RecordingStarted);
        assert_eq!(h.deadline(), Some(s(35)));
    }

    #[test]
    fn bye_on_either_side_of_a_bridge_ends_the_other() {
        let (mut h, _) = two_agents();
        h.handle(s(1), Input::AgentAnswered);
        assert_eq!(
            h.clone().handle(s(9), Input::AgentHungUp),
            vec![Step::HangUpCaller]
        );
        assert_eq!(h.handle(s(9), Input::CallerHungUp), vec![Step::HangUpAgent]);
    }

    #[test]
    fn caller_hanging_up_while_an_agent_rings_cancels_it() {
        let (mut h, _) = two_agents();
        assert_eq!(h.handle(s(2), Input::CallerHungUp), vec![Step::Cancel]);
        assert_eq!(h.deadline(), None);
    }
}
