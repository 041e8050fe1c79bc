//! A trunk's outbound registration (RFC 3261 §10.2), sans-IO: REGISTER to the trunk's
//! registrar, answer its digest challenge once (again only for a stale nonce), keep the
//! binding by refreshing halfway through what the registrar granted, and after a failure
//! (wrong credentials, a refusal, no answer) try again later — never give up, never crash.
//!
//! ```text
//!   Idle ──poll──► Registering ──2xx──► Registered ──(granted/2)──► Registering …
//!                     │ 401/407: answer once (new transaction, CSeq+1, same Call-ID)
//!                     └─ failure/timeout ──► Failed ──(RETRY)──► Registering …
//! ```
//! Time is an argument; the server's task owns the socket and feeds responses on this
//! registration's Call-ID ([`Registration::call_id`]).

use super::Trunk;
use crate::sip::digest_client::{new_cnonce, reauthorized};
use crate::sip::transaction::{ClientNonInvite, Event, Input, Reliability, Timers, Transaction};
use crate::sip::{
    find_param, new_branch, new_call_id, new_tag, LocalVia, Method, NameAddr, Request,
    RequestBuilder, Response,
};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long after a failed registration the next attempt starts.
pub const RETRY: Duration = Duration::from_secs(30);
/// Most challenges answered for one REGISTER (the first, then stale nonces).
const MAX_ANSWERS: u8 = 3;

/// What changed, for the log and the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegEvent {
    /// The registrar keeps our binding for this long.
    Registered(Duration),
    /// The attempt failed: the status (0: no answer, or a challenge we could not answer).
    Failed(u16),
}

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    /// A REGISTER is on its way.
    Registering,
    /// Bound until this time (a refresh is sent before).
    Registered {
        /// When the binding runs out.
        until: Duration,
    },
    /// The last attempt failed with this status; the next one is scheduled.
    Failed(u16),
}

/// One trunk's registration.
#[derive(Debug)]
pub struct Registration {
    trunk: Trunk,
    via: LocalVia,
    reliability: Reliability,
    call_id: String,
    from_tag: String,
    cseq: u32,
    expires: u32,
    tx: Option<ClientNonInvite>,
    /// The REGISTER last sent (a challenge to it is answered from it).
    sent: Option<Request>,
    answers: u8,
    next_at: Option<Duration>,
    state: RegState,
}

impl Registration {
    /// A registration of `trunk` (which must have `register_expires`) sent from `via`; the
    /// first REGISTER goes at the first [`Registration::poll`].
    pub fn new(trunk: &Trunk, via: LocalVia) -> Registration {
        Registration {
            reliability: Reliability::from_reliable(trunk.tls),
            expires: trunk.register_expires.unwrap_or(600),
            trunk: trunk.clone(),
            call_id: new_call_id(&via.host),
            via,
            from_tag: new_tag(),
            cseq: 0,
            tx: None,
            sent: None,
            answers: 0,
            next_at: Some(Duration::ZERO),
            state: RegState::Registering,
        }
    }

    /// The Call-ID every REGISTER of this registration carries.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Where it stands.
    pub fn state(&self) -> RegState {
        self.state
    }

    /// When [`Registration::poll`] should run next.
    pub fn deadline(&self) -> Option<Duration> {
        let tx = self.tx.as_ref().and_then(|t| t.poll_timeout());
        [tx, self.next_at].into_iter().flatten().min()
    }

    /// Retransmissions, timeouts, and the next REGISTER when it is due.
    pub fn poll(&mut self, now: Duration) -> (Vec<Vec<u8>>, Option<RegEvent>) {
        if let Some(t) = &mut self.tx {
            t.handle_timeout(now);
        }
        let (mut send, event) = self.pump(now);
        if self.next_at.is_some_and(|at| now >= at) && self.tx.is_none() {
            self.next_at = None;
            self.answers = 0;
            self.state = match self.state {
                RegState::Registered { until } => RegState::Registered { until },
                _ => RegState::Registering,
            };
            if let Some(req) = self.register() {
                send.extend(self.start(now, req));
            }
        }
        (send, event)
    }

    /// A response on this registration's Call-ID.
    pub fn on_response(
        &mut self,
        now: Duration,
        resp: &Response,
    ) -> (Vec<Vec<u8>>, Option<RegEvent>) {
        if let Some(t) = self.tx.as_mut().filter(|t| t.matches(resp)) {
            t.handle(now, Input::Response(resp.clone()));
        }
        self.pump(now)
    }

    fn register(&mut self) -> Option<Request> {
        self.cseq += 1;
        let domain = &self.trunk.domain;
        let user = self
            .trunk
            .credentials
            .as_ref()
            .map_or("humanline", |c| &c.username);
        let aor = format!("sip:{user}@{domain}");
        let transport = if self.trunk.tls { ";transport=tls" } else { "" };
        let contact = format!(
            "<sip:{user}@{}:{}{transport}>",
            self.via.host, self.via.port
        );
        RequestBuilder::new(Method::Register, format!("sip:{domain}"))
            .via(
                &self.via.host,
                self.via.port,
                &self.via.transport,
                &new_branch(),
            )
            .from(NameAddr::new(aor.clone()).with_tag(self.from_tag.clone()))
            .to(NameAddr::new(aor))
            .call_id(self.call_id.clone())
            .cseq(self.cseq)
            .contact(contact)
            .header("Expires", &self.expires.to_string())
            .build()
            .ok()
    }

    fn start(&mut self, now: Duration, req: Request) -> Vec<Vec<u8>> {
        self.sent = Some(req.clone());
        match ClientNonInvite::new(now, req, self.reliability, Timers::default()) {
            Ok(mut t) => {
                let sends = t.drain().0;
                self.tx = Some(t);
                sends
            }
            Err(_) => {
                self.fail(now, 0);
                Vec::new()
            }
        }
    }

    fn pump(&mut self, now: Duration) -> (Vec<Vec<u8>>, Option<RegEvent>) {
        let Some(t) = &mut self.tx else {
            return (Vec::new(), None);
        };
        let (mut send, events) = t.drain();
        if t.is_terminated() {
            self.tx = None;
        }
        let mut event = None;
        for e in events {
            match e {
                Event::Response(r) if r.status < 200 => {}
                Event::Response(r) => event = self.on_final(now, &r, &mut send).or(event),
                Event::Timeout => event = Some(self.fail(now, 0)),
                _ => {}
            }
        }
        (send, event)
    }

    fn on_final(
        &mut self,
        now: Duration,
        r: &Response,
        send: &mut Vec<Vec<u8>>,
    ) -> Option<RegEvent> {
        if (200..300).contains(&r.status) {
            let granted = Duration::from_secs(u64::from(self.granted(r)));
            self.state = RegState::Registered {
                until: now + granted,
            };
            self.next_at = Some(now + (granted / 2).max(Duration::from_secs(1)));
            return Some(RegEvent::Registered(granted));
        }
        if r.status == 423 {
            // Interval Too Brief: ask for what the registrar wants, at once.
            if let Some(min) = r
                .headers
                .get("Min-Expires")
                .and_then(|v| v.trim().parse().ok())
            {
                if min > self.expires {
                    self.expires = min;
                    if let Some(req) = self.register() {
                        send.extend(self.start(now, req));
                        return None;
                    }
                }
            }
        }
        if matches!(r.status, 401 | 407) && self.answers < MAX_ANSWERS {
            if let (Some(creds), Some(sent)) = (&self.trunk.credentials, self.sent.clone()) {
                if let Ok(Some((again, ch))) = reauthorized(&sent, r, creds, &new_cnonce()) {
                    if self.answers == 0 || ch.stale {
                        self.answers += 1;
                        self.cseq = again.headers.cseq().map_or(self.cseq + 1, |(n, _)| n);
                        send.extend(self.start(now, again));
                        return None;
                    }
                }
            }
        }
        Some(self.fail(now, r.status))
    }

    /// What the registrar granted: our Contact's `expires`, else `Expires`, else what we
    /// asked for.
    fn granted(&self, r: &Response) -> u32 {
        let ours = format!("{}:{}", self.via.host, self.via.port);
        let from_contact = r
            .headers
            .get_all("Contact")
            .into_iter()
            .filter_map(|c| NameAddr::parse(c).ok())
            .filter(|c| c.uri.contains(&ours))
            .find_map(|c| find_param(&c.params, "expires").flatten()?.parse().ok());
        from_contact
            .or_else(|| r.headers.expires().ok().flatten())
            .unwrap_or(self.expires)
            .max(1)
    }

    fn fail(&mut self, now: Duration, status: u16) -> RegEvent {
        self.tx = None;
        self.state = RegState::Failed(status);
        self.next_at = Some(now + RETRY);
        RegEvent::Failed(status)
    }
}

/// The registrations of every trunk as the metrics show them: registered or not, failures.
#[derive(Debug, Default)]
pub struct Health {
    trunks: Mutex<BTreeMap<String, (bool, u64)>>,
}

impl Health {
    /// Notes what happened to `trunk`'s registration.
    pub fn note(&self, trunk: &str, event: &RegEvent) {
        if let Ok(mut t) = self.trunks.lock() {
            let e = t.entry(trunk.to_string()).or_default();
            match event {
                RegEvent::Registered(_) => e.0 = true,
                RegEvent::Failed(_) => {
                    e.0 = false;
                    e.1 += 1;
                }
            }
        }
    }

    /// Prometheus lines: `humanline_trunk_registered{trunk}` (1 or 0) and
    /// `humanline_trunk_register_failures_total{trunk}`.
    pub fn render(&self, o: &mut String) {
        use std::fmt::Write;
        let Ok(t) = self.trunks.lock() else {
            return;
        };
        if t.is_empty() {
            return;
        }
        let _ = writeln!(o, "# HELP humanline_trunk_registered 1 while the trunk's registration holds.\n# TYPE humanline_trunk_registered gauge");
        for (name, (up, _)) in t.iter() {
            let _ = writeln!(
                o,
                "humanline_trunk_registered{{trunk=\"{name}\"}} {}",
                u8::from(*up)
            );
        }
        let _ = writeln!(o, "# HELP humanline_trunk_register_failures_total Failed trunk registrations.\n# TYPE humanline_trunk_register_failures_total counter");
        for (name, (_, failed)) in t.iter() {
            let _ = writeln!(
                o,
                "humanline_trunk_register_failures_total{{trunk=\"{name}\"}} {failed}"
            );
        }
    }
}

#[cfg(test)]
#[path = "register_tests.rs"]
mod tests;
