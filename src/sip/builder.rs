//! Building responses to requests we received and requests we send (the B2BUA agent leg).

use super::error::{err, SipError, SipErrorKind};
use super::headers::Headers;
use super::ids::new_branch;
use super::message::{Request, Response};
use super::method::{is_token, Method};
use super::name_addr::NameAddr;
use super::uri::write_host;

/// What we put in `Server:` and `User-Agent:`.
pub const PRODUCT: &str = "humanline";

/// A response to `req`: every Via in order, From, To (with `;tag=to_tag` added when To has
/// no tag yet), Call-ID, CSeq; Record-Route too for 101–299 answers to INVITE (RFC 3261
/// §12.1.1). `Server: humanline`, `Content-Length: 0` — add a body with
/// [`Response::with_body`].
pub fn response_to(req: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
    let mut headers = Headers::new();
    let copy_rr = req.method == Method::Invite && (101..300).contains(&status);
    for (name, value) in req.headers.iter() {
        let wanted = ["Via", "From", "Call-ID", "CSeq"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
            || (copy_rr && name.eq_ignore_ascii_case("Record-Route"));
        if wanted {
            headers.push(name, value);
        } else if name.eq_ignore_ascii_case("To") {
            headers.push(name, with_tag(value, to_tag));
        }
    }
    headers.push("Server", PRODUCT);
    headers.push("Content-Length", "0");
    Response {
        status,
        reason: reason.to_string(),
        headers,
        body: Vec::new(),
    }
}

/// `value` with `;tag=` appended when `tag` is given and the address has none.
fn with_tag(value: &str, tag: Option<&str>) -> String {
    let has_tag = match NameAddr::parse(value) {
        Ok(a) => a.tag().is_some(),
        Err(_) => value.to_ascii_lowercase().contains(";tag="),
    };
    match tag {
        Some(t) if !has_tag => format!("{value};tag={t}"),
        _ => value.to_string(),
    }
}

/// Where we send from: the sent-by of our Via.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVia {
    /// Our host or IP as the peer should reach it.
    pub host: String,
    /// Our SIP port.
    pub port: u16,
    /// `UDP`, `TCP`…
    pub transport: String,
}

impl LocalVia {
    /// A Via value for this address with `branch` and `;rport` (RFC 3581).
    pub fn header(&self, branch: &str) -> String {
        let mut host = String::new();
        // Writing to a String cannot fail.
        let _ = write_host(&mut host, &self.host);
        format!(
            "SIP/2.0/{} {host}:{};branch={branch};rport",
            self.transport, self.port
        )
    }
}

/// Builds an outgoing request: INVITE, ACK, BYE, CANCEL… on the agent leg.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: Method,
    uri: String,
    via: Option<String>,
    routes: Vec<String>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<String>,
    cseq: u32,
    contact: Option<String>,
    extra: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl RequestBuilder {
    /// A request for `method` to `uri`, CSeq 1 unless set.
    pub fn new(method: Method, uri: impl Into<String>) -> Self {
        RequestBuilder {
            method,
            uri: uri.into(),
            via: None,
            routes: Vec::new(),
            from: None,
            to: None,
            call_id: None,
            cseq: 1,
            contact: None,
            extra: Vec::new(),
            body: None,
        }
    }

    /// Our Via: `SIP/2.0/{transport} host:port;branch=…;rport`.
    pub fn via(mut self, host: &str, port: u16, transport: &str, branch: &str) -> Self {
        let local = LocalVia {
            host: host.to_string(),
            port,
            transport: transport.to_ascii_uppercase(),
        };
        self.via = Some(local.header(branch));
        self
    }

    /// A Route header (call repeatedly, in order).
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.routes.push(route.into());
        self
    }

    /// The From address; it must carry a tag.
    pub fn from(mut self, from: NameAddr) -> Self {
        self.from = Some(from);
        self
    }

    /// The To address (tagged inside a dialog).
    pub fn to(mut self, to: NameAddr) -> Self {
        self.to = Some(to);
        self
    }

    /// The Call-ID.
    pub fn call_id(mut self, call_id: impl Into<String>) -> Self {
        self.call_id = Some(call_id.into());
        self
    }

    /// The CSeq number (the method is the request's).
    pub fn cseq(mut self, n: u32) -> Self {
        self.cseq = n;
        self
    }

    /// Our Contact URI (written as `<uri>`).
    pub fn contact(mut self, uri: impl Into<String>) -> Self {
        self.contact = Some(uri.into());
        self
    }

    /// Any other header, e.g. `User-to-User`, `Call-Info`, `X-Humanline-Summary`. Line
    /// breaks in `value` become spaces, so text from a transcript cannot inject headers.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let value = value.replace(['\r', '\n'], " ");
        self.extra.push((name.to_string(), value));
        self
    }

    /// A body and its Content-Type (e.g. `application/sdp`).
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((content_type.to_string(), body));
        self
    }

    /// The request, or which mandatory part is missing.
    pub fn build(self) -> Result<Request, SipError> {
        let via = self.via.ok_or_else(|| missing("Via"))?;
        let from = self.from.ok_or_else(|| missing("From"))?;
        let to = self.to.ok_or_else(|| missing("To"))?;
        let call_id = self.call_id.ok_or_else(|| missing("Call-ID"))?;
        if from.tag().is_none() {
            return Err(err(SipErrorKind::BadHeaderValue, "From needs a tag"));
        }
        if let Some((name, _)) = self.extra.iter().find(|(n, _)| !is_token(n)) {
            return Err(err(
                SipErrorKind::BadHeader,
                format!("bad header name `{name}`"),
            ));
        }
        let mut h = Headers::new();
        h.push("Via", via);
        h.push("Max-Forwards", "70");
        for r in self.routes {
            h.push("Route", r);
        }
        h.push("From", from.to_string());
        h.push("To", to.to_string());
        h.push("Call-ID", call_id);
        h.push("CSeq", format!("{} {}", self.cseq, self.method));
        if let Some(c) = self.contact {
            h.push("Contact", format!("<{c}>"));
        }
        h.push("User-Agent", PRODUCT);
        for (n, v) in self.extra {
            h.push(&n, v);
        }
        let req = Request {
            method: self.method,
            uri: self.uri,
            headers: h,
            body: Vec::new(),
        };
        Ok(match self.body {
            Some((ct, body)) => req.with_body(&ct, body),
            None => req.with_body_len(),
        })
    }
}

impl Request {
    fn with_body_len(mut self) -> Self {
        self.headers
            .set("Content-Length", self.body.len().to_string());
        self
    }
}

/// The ACK for a 2xx to our INVITE — its own transaction (RFC 3261 §13.2.2.4): sent to the
/// Contact of the answer, through its Record-Route reversed, with a new branch.
pub fn ack_for_2xx(invite: &Request, resp: &Response) -> Result<Request, SipError> {
    let uri = resp
        .headers
        .contact()
        .map_or_else(|| invite.uri.clone(), |c| c.uri);
    let top = invite
        .headers
        .via()?
        .into_iter()
        .next()
        .ok_or_else(|| missing("Via"))?;
    let local = LocalVia {
        host: top.host,
        port: top.port.unwrap_or(5060),
        transport: top.transport,
    };
    let mut routes = resp.headers.get_all("Record-Route");
    routes.reverse();
    let (n, _) = invite.headers.cseq()?;
    let mut h = Headers::new();
    h.push("Via", local.header(&new_branch()));
    h.push("Max-Forwards", "70");
    for r in routes {
        h.push("Route", r);
    }
    dialog_headers(&mut h, invite, resp)?;
    h.push("CSeq", format!("{n} ACK"));
    h.push("Content-Length", "0");
    Ok(Request {
        method: Method::Ack,
        uri,
        headers: h,
        body: Vec::new(),
    })
}

/// The ACK for a 3xx–6xx to our INVITE — part of the INVITE transaction (RFC 3261
/// §17.1.1.3): same Request-URI, top Via and Route as the INVITE, To from the response.
pub fn ack_for_failure(invite: &Request, resp: &Response) -> Result<Request, SipError> {
    let mut h = same_transaction_headers(invite)?;
    dialog_headers(&mut h, invite, resp)?;
    let (n, _) = invite.headers.cseq()?;
    h.push("CSeq", format!("{n} ACK"));
    h.push("Content-Length", "0");
    Ok(Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers: h,
        body: Vec::new(),
    })
}

/// The CANCEL for our pending INVITE (RFC 3261 §9.1): same Request-URI, top Via, Route,
/// From, To, Call-ID and CSeq number.
pub fn cancel_for(invite: &Request) -> Result<Request, SipError> {
    let mut h = same_transaction_headers(invite)?;
    for name in ["From", "To", "Call-ID"] {
        let v = invite.headers.get(name).ok_or_else(|| missing(name))?;
        h.push(name, v);
    }
    let (n, _) = invite.headers.cseq()?;
    h.push("CSeq", format!("{n} CANCEL"));
    h.push("Content-Length", "0");
    Ok(Request {
        method: Method::Cancel,
        uri: invite.uri.clone(),
        headers: h,
        body: Vec::new(),
    })
}

fn same_transaction_headers(invite: &Request) -> Result<Headers, SipError> {
    let mut h = Headers::new();
    h.push(
        "Via",
        invite.headers.get("Via").ok_or_else(|| missing("Via"))?,
    );
    h.push("Max-Forwards", "70");
    for r in invite.headers.get_all("Route") {
        h.push("Route", r);
    }
    Ok(h)
}

fn dialog_headers(h: &mut Headers, invite: &Request, resp: &Response) -> Result<(), SipError> {
    h.push(
        "From",
        invite.headers.get("From").ok_or_else(|| missing("From"))?,
    );
    h.push("To", resp.headers.get("To").ok_or_else(|| missing("To"))?);
    h.push(
        "Call-ID",
        invite.headers.call_id().ok_or_else(|| missing("Call-ID"))?,
    );
    Ok(())
}

fn missing(name: &str) -> SipError {
    err(SipErrorKind::MissingHeader, format!("missing {name}"))
}
