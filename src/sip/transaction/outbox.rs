//! The queues every transaction fills and its owner drains: bytes to send and events.

use super::Event;
use std::collections::VecDeque;

/// Bytes to send and events to report, in order; `Terminated` reported once.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    terminated: bool,
}

impl Outbox {
    pub(crate) fn send(&mut self, bytes: Vec<u8>) {
        self.transmit.push_back(bytes);
    }

    pub(crate) fn event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Marks the transaction over and reports it (once).
    pub(crate) fn terminate(&mut self) {
        if !self.terminated {
            self.terminated = true;
            self.events.push_back(Event::Terminated);
        }
    }

    pub(crate) fn terminated(&self) -> bool {
        self.terminated
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
