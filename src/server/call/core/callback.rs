//! The callback offer on the caller's side (issue 18, part 3). While the hand-off offers a
//! callback ([`handoff::Stage::OfferingCallback`]) the caller's keys and words answer it:
//!
//! - **1** or "yes" (any of the built-in yes words, English or Mandarin): call me back at the
//!   number my caller ID shows; without a usable caller ID, 1 asks for the number to be keyed;
//! - **3**: key another number, then **#** (`*` starts the number again);
//! - **2** or "no": keep waiting (no answer within the offer's time does the same).
//!
//! Booking hands the shell [`Output::BookCallback`] (it stores the callback with the caller's
//! place in line and speaks the confirmation); the line hangs up after the confirmation.

use super::super::super::handoff::{self, Handoff};
use super::{CallCore, Output};
use serde_json::json;
use std::time::Duration;

/// Fewest and most digits of a number we call back.
const NUMBER_DIGITS: std::ops::RangeInclusive<usize> = 3..=20;

/// `text` as a number we may call back: digits, with an optional leading `+`.
fn callable(text: &str) -> Option<String> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    let ok = NUMBER_DIGITS.contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.to_string())
}

impl CallCore {
    /// The number the caller's ID gives (the user part of the INVITE's From), when it is one
    /// this queue may call back.
    pub(super) fn caller_number(&self) -> Option<String> {
        let from = self.caller.invite().headers.get("From")?;
        let uri = crate::sip::NameAddr::parse(from).ok()?.uri;
        let user = uri.split_once(':')?.1.split(['@', ';']).next()?;
        callable(user).filter(|n| self.may_call_back(n))
    }

    /// Whether the queue's `callback_numbers` allow calling `number` back.
    fn may_call_back(&self, number: &str) -> bool {
        let queue = self.transfer.as_ref().map(|(q, _)| q.as_str());
        let prefixes = queue.and_then(|q| self.cfg.callback_numbers.get(q));
        prefixes.is_none_or(|p| p.is_empty() || p.iter().any(|p| number.starts_with(p.as_str())))
    }

    fn offering_callback(&self) -> bool {
        self.handoff
            .as_ref()
            .is_some_and(Handoff::offering_callback)
    }

    /// Whether the caller's words are listened to after the hand-off: while the callback
    /// offer is open.
    pub fn listens_for_callback(&self) -> bool {
        self.finished_at.is_none() && self.offering_callback()
    }

    /// Whether the queue the caller went to may offer a callback (its listener is kept for
    /// the answer).
    pub fn may_offer_callback(&self) -> bool {
        let queue = self.transfer.as_ref().map(|(q, _)| q);
        queue
            .and_then(|q| self.cfg.queues.get(q))
            .is_some_and(|r| r.callback_after.is_some())
            && self.finished_at.is_none()
    }

    /// [`handoff::Step::OfferCallback`]: the offer is spoken.
    pub(super) fn callback_offered(&mut self) {
        self.callback_keys = None;
        let number = self.caller_number();
        self.event("callback_offered", json!({ "number": number }));
        self.out.push_back(Output::OfferCallback {
            number,
            keying: false,
        });
    }

    /// [`handoff::Step::BookCallback`]: the shell stores it and confirms it.
    pub(super) fn callback_booked(&mut self) {
        let Some(number) = self.callback_to.clone() else {
            return;
        };
        let queue = self
            .transfer
            .as_ref()
            .map(|(q, _)| q.clone())
            .unwrap_or_default();
        self.event(
            "callback_booked",
            json!({ "queue": queue, "number": number }),
        );
        self.out.push_back(Output::BookCallback {
            queue,
            number,
            queued_at: self.queued_at,
        });
    }

    /// A key while the offer is open (other keys after the hand-off do nothing).
    pub(super) fn callback_digit(&mut self, now: Duration, d: char) {
        if !self.offering_callback() {
            return;
        }
        if let Some(keys) = &mut self.callback_keys {
            match d {
                '#' => {
                    let keyed = std::mem::take(keys);
                    match callable(&keyed) {
                        Some(n) if self.may_call_back(&n) => self.choose(now, Some(n)),
                        Some(n) => {
                            self.event("callback_number_refused", json!({ "number": n }));
                            self.ask_for_number();
                        }
                        None => self.ask_for_number(),
                    }
                }
                '*' => keys.clear(),
                d if d.is_ascii_digit() && keys.len() < *NUMBER_DIGITS.end() => keys.push(d),
                _ => {}
            }
            return;
        }
        match d {
            '1' => match self.caller_number() {
                Some(n) => self.choose(now, Some(n)),
                None => self.ask_for_number(),
            },
            '3' => self.ask_for_number(),
            '2' => self.choose(now, None),
            _ => {}
        }
    }

    /// What the caller said while the offer is open: yes books it, no keeps waiting.
    pub(super) fn callback_words(&mut self, now: Duration, text: &str) {
        if !self.offering_callback() || self.callback_keys.is_some() {
            return;
        }
        match self.engine.yes_no(text) {
            Some(true) => match self.caller_number() {
                Some(n) => self.choose(now, Some(n)),
                None => self.ask_for_number(),
            },
            Some(false) => self.choose(now, None),
            None => {}
        }
    }

    fn ask_for_number(&mut self) {
        self.callback_keys = Some(String::new());
        self.event("callback_keying", json!({}));
        self.out.push_back(Output::OfferCallback {
            number: None,
            keying: true,
        });
    }

    /// The caller's answer: a number books the callback, `None` keeps waiting.
    fn choose(&mut self, now: Duration, number: Option<String>) {
        self.callback_keys = None;
        let take = number.is_some();
        if !take {
            self.event("callback_declined", json!({}));
        }
        self.callback_to = number;
        self.handoff_input(now, handoff::Input::CallbackChoice(take));
    }
}

#[cfg(test)]
mod tests {
    use super::callable;

    #[test]
    fn only_plain_numbers_are_called_back() {
        assert_eq!(callable("+15551234567").as_deref(), Some("+15551234567"));
        assert_eq!(callable("5550100").as_deref(), Some("5550100"));
        for bad in [
            "",
            "12",
            "alice",
            "555-0100",
            "++1555",
            "1".repeat(21).as_str(),
        ] {
            assert_eq!(callable(bad), None, "{bad}");
        }
    }
}
