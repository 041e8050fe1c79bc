//! One file per protocol promise, on fake time: each drives a machine with messages and
//! `Input::Timeout` at chosen instants and checks what it sends and reports.

mod cancel_2xx_race;
mod cancel_waits_for_a_provisional;
mod client_invite_timer_a_b;
mod dialog_state;
mod failure_response_until_ack;
mod matching_keys;
mod no_retransmission_over_tcp;
mod non_invite_timer_e_f;
mod provisional_stops_retransmission;
mod retransmitted_invite_gets_the_same_answer;
mod timer_d_acks_every_failure_retransmission;
mod timer_k_j_absorb_retransmissions;
mod trying_when_the_user_is_slow;
mod uas_2xx_retransmitted_until_ack;
mod uas_ack_timeout;

use super::{Event, Input, Transaction};
use crate::sip::{parse, response_to, Method, Request, Response, SipMessage};
use std::time::Duration;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A request from a peer at 10.0.0.2 (`transport`: UDP or TCP).
pub(super) fn request(method: Method, branch: &str, cseq: u32, transport: &str) -> Request {
    let m = method.as_str();
    let text = format!(
        "{m} sip:support@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 10.0.0.2:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@10.0.0.2>;tag=alicetag\r\n\
         To: <sip:support@127.0.0.1>\r\nCall-ID: call-1@10.0.0.2\r\nCSeq: {cseq} {m}\r\n\
         Contact: <sip:alice@10.0.0.2:5060>\r\nContent-Length: 0\r\n\r\n"
    );
    match parse(text.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("test request does not parse: {other:?}"),
    }
}

/// An INVITE over UDP with branch `z9hG4bKinv1`.
pub(super) fn invite() -> Request {
    request(Method::Invite, "z9hG4bKinv1", 1, "UDP")
}

/// The peer's (or our) answer to `req`, To tagged `tag`.
pub(super) fn answer(req: &Request, status: u16, tag: &str) -> Response {
    let mut r = response_to(req, status, "X", Some(tag));
    r.headers.push("Contact", "<sip:peer@10.0.0.9:5060>");
    r
}

/// The status line or request line of `bytes`.
pub(super) fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().next().unwrap_or_default().to_string()
}

/// What a machine did over a stretch of fake time.
#[derive(Debug, Default)]
pub(super) struct Log {
    /// (when, first line) of each transmission.
    pub sent: Vec<(u128, String)>,
    /// (when, event) of each event.
    pub events: Vec<(u128, Event)>,
}

impl Log {
    /// The milliseconds at which something was sent.
    pub fn sent_at(&self) -> Vec<u128> {
        self.sent.iter().map(|(t, _)| *t).collect()
    }

    /// True when an event matching `f` was reported.
    pub fn saw(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }
}

/// Collects what `tx` queued at `now`.
pub(super) fn collect(tx: &mut impl Transaction, now: Duration, log: &mut Log) {
    let (sends, events) = tx.drain();
    let t = now.as_millis();
    log.sent.extend(sends.iter().map(|b| (t, first_line(b))));
    log.events.extend(events.into_iter().map(|e| (t, e)));
}

/// Runs `tx`'s timers from wherever it is until `until` (inclusive), like an owner that sleeps
/// until each `poll_timeout`, and logs what it did (including what was queued before).
pub(super) fn run_until(tx: &mut impl Transaction, from: Duration, until: Duration) -> Log {
    let mut log = Log::default();
    collect(tx, from, &mut log);
    while let Some(t) = tx.poll_timeout() {
        if t > until {
            break;
        }
        tx.handle(t, Input::Timeout);
        collect(tx, t, &mut log);
    }
    log
}

/// Feeds `input` at `now` and logs what came out.
pub(super) fn feed(tx: &mut impl Transaction, now: Duration, input: Input) -> Log {
    tx.handle(now, input);
    let mut log = Log::default();
    collect(tx, now, &mut log);
    log
}
