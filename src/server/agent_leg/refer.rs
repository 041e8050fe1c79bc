//! A transfer asked for by the agent's phone (REFER, RFC 3515): answered `202 Accepted` with
//! the `Refer-To` target reported to the call, which decides; its outcome goes back to the
//! phone in one NOTIFY (`message/sipfrag`, the subscription ended with it).

use super::AgentLeg;
use crate::sip::transaction::{ClientNonInvite, Timers};
use crate::sip::{Method, Request};
use std::time::Duration;

/// The answer to a REFER in the dialog: accepted when the call is up and it names a target.
pub(super) fn answer(req: &Request, confirmed: bool) -> (u16, &'static str) {
    if !confirmed {
        return (403, "Forbidden - not in a call");
    }
    match target(req) {
        Some(_) => (202, "Accepted"),
        None => (400, "Bad Request - Refer-To missing"),
    }
}

/// The URI a REFER names (`Refer-To`, compact form `r`), without its angle brackets.
pub(super) fn target(req: &Request) -> Option<String> {
    let v = req
        .headers
        .get("Refer-To")
        .or_else(|| req.headers.get("r"))?
        .trim();
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v),
    };
    let uri = uri.trim();
    (!uri.is_empty()).then(|| uri.to_string())
}

impl AgentLeg {
    /// Tells the phone how its REFER ended (`status` as a SIP status line in the NOTIFY's
    /// body); the bytes to send now.
    pub fn notify_refer(&mut self, now: Duration, status: u16, reason: &str) -> Vec<Vec<u8>> {
        self.now = now;
        let Some(d) = &mut self.dialog else {
            return Vec::new();
        };
        let built = d.request(Method::Notify, &self.via).and_then(|b| {
            Ok(b.header("Event", "refer")
                .header("Subscription-State", "terminated;reason=noresource")
                .body(
                    "message/sipfrag;version=2.0",
                    format!("SIP/2.0 {status} {reason}\r\n").into_bytes(),
                )
                .build()?)
        });
        let Ok(request) = built else {
            return Vec::new();
        };
        self.notify = ClientNonInvite::new(now, request, self.reliability, Timers::default()).ok();
        self.pump(now).0
    }
}
