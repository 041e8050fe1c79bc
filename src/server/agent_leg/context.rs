//! What the agent learns from our INVITE (DESIGN §5): the context headers, kept on one line
//! and printable, and where a configured agent URI is reached.

use crate::sip::{
    new_branch, new_call_id, new_tag, LocalVia, Method, NameAddr, Request, RequestBuilder, Scheme,
    SipError, SipUri,
};

/// Everything the agent should know, sent as INVITE headers (DESIGN §5).
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Our call id.
    pub call_id: &'a str,
    /// URL of the call in the REST API.
    pub call_url: &'a str,
    /// Escalation reason (`zero_out`…), or `routed`.
    pub reason: &'a str,
    /// One-line summary.
    pub summary: &'a str,
    /// The caller's From, shown as the calling party.
    pub caller: &'a str,
    /// The language the caller speaks now (`en`, `zh`; a language node may have changed it),
    /// sent as `X-Humanline-Language`.
    pub language: &'a str,
    /// Why the call was in elderly mode, when it was (sent as `X-Humanline-Elderly`): the
    /// agent should speak slowly and clearly.
    pub elderly: Option<&'a str>,
}

/// Our Contact in an INVITE to `uri` sent from `via`: over TLS `;transport=tls`, or `sips:`
/// when the request is `sips:` (RFC 5630 §3.1.3: the Contact of a SIPS request is SIPS).
fn contact(uri: &str, via: &LocalVia) -> String {
    let tls = via.transport.eq_ignore_ascii_case("TLS");
    let sips = SipUri::parse(uri).is_ok_and(|u| u.scheme == Scheme::Sips);
    match (tls, sips) {
        (true, true) => format!("sips:humanline@{}:{}", via.host, via.port),
        (true, false) => format!("sip:humanline@{}:{};transport=tls", via.host, via.port),
        _ => format!("sip:humanline@{}:{}", via.host, via.port),
    }
}

/// Keeps header values on one line and printable (a summary comes from caller speech).
fn header_safe(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// The INVITE to `uri` carrying `ctx` and our SDP `offer`, sent from `via`.
pub(super) fn context_invite(
    uri: &str,
    via: &LocalVia,
    offer: String,
    ctx: &Context<'_>,
) -> Result<Request, SipError> {
    let caller_user = NameAddr::parse(ctx.caller)
        .ok()
        .and_then(|a| a.sip_uri().ok())
        .and_then(|u| u.user)
        .unwrap_or_else(|| "caller".into());
    let hex: String = ctx.call_id.bytes().map(|b| format!("{b:02x}")).collect();
    let invite = invite_from(uri, via, &caller_user)
        .header("User-to-User", &format!("{hex};encoding=hex"))
        .header(
            "Call-Info",
            &format!("<{}>;purpose=info", header_safe(ctx.call_url, 512)),
        )
        .header("X-Humanline-Call-Id", &header_safe(ctx.call_id, 128))
        .header("X-Humanline-Reason", &header_safe(ctx.reason, 64))
        .header("X-Humanline-Summary", &header_safe(ctx.summary, 200))
        .header("X-Humanline-Caller", &header_safe(ctx.caller, 200))
        .header("X-Humanline-Language", &header_safe(ctx.language, 16));
    let invite = match ctx.elderly {
        Some(why) => invite.header("X-Humanline-Elderly", &header_safe(why, 200)),
        None => invite,
    };
    invite.body("application/sdp", offer.into_bytes()).build()
}

/// A plain INVITE to `uri` with our SDP `offer`, sent from `via`: nothing about the call in
/// it (a customer called back through a carrier learns only the caller ID we present).
pub(super) fn plain_invite(uri: &str, via: &LocalVia, offer: String) -> Result<Request, SipError> {
    invite_from(uri, via, "humanline")
        .body("application/sdp", offer.into_bytes())
        .build()
}

/// The INVITE to `uri` from `user` at our address `via` (display name "humanline"), with a
/// new tag, Call-ID and branch and our Contact: what every INVITE we send starts with.
fn invite_from(uri: &str, via: &LocalVia, user: &str) -> RequestBuilder {
    let from = NameAddr::new(format!("sip:{user}@{}:{}", via.host, via.port))
        .with_display("humanline")
        .with_tag(new_tag());
    RequestBuilder::new(Method::Invite, uri)
        .via(&via.host, via.port, &via.transport, &new_branch())
        .from(from)
        .to(NameAddr::new(uri))
        .call_id(new_call_id(&via.host))
        .cseq(1)
        .contact(contact(uri, via))
}

/// An INVITE going out through a trunk presents the trunk's caller ID, not the caller's
/// number at our address: the From (its tag kept) and `P-Asserted-Identity` (RFC 3325) say
/// `caller_id`; a carrier checks and shows that.
pub(super) fn present_as(invite: &mut Request, caller_id: &str) {
    let tag = invite
        .headers
        .from()
        .ok()
        .and_then(|f| f.tag().map(str::to_string))
        .unwrap_or_else(new_tag);
    let from = NameAddr::new(caller_id).with_tag(tag);
    invite.headers.set("From", from.to_string());
    invite
        .headers
        .set("P-Asserted-Identity", NameAddr::new(caller_id).to_string());
}
