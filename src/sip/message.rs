//! SIP requests and responses as typed values, their semantic checks and their wire form.

use std::net::{IpAddr, SocketAddr};

use super::error::{err, SipError, SipErrorKind};
use super::headers::Headers;
use super::method::Method;
use super::uri::SipUri;
use super::via::Via;

/// One SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipMessage {
    /// A request (INVITE, BYE…).
    Request(Request),
    /// A response (100 Trying, 200 OK…).
    Response(Response),
}

/// A SIP request. Values from [`super::parse`] carry Via, From, To, Call-ID and a CSeq
/// matching the method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI as written.
    pub uri: String,
    /// Header fields in order.
    pub headers: Headers,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100–699.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields in order.
    pub headers: Headers,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

/// Headers without which a message cannot be matched to a transaction or dialog.
const MANDATORY: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];

impl Request {
    /// The Request-URI parsed as a SIP URI.
    pub fn sip_uri(&self) -> Result<SipUri, SipError> {
        SipUri::parse(&self.uri)
    }

    /// Checks what [`super::parse`] promises: mandatory headers present, CSeq readable and
    /// naming this method (ACK and CANCEL share the INVITE's number, and carry their own
    /// method name), a sip/sips Request-URI without headers, a numeric Max-Forwards.
    pub fn check(&self) -> Result<(), SipError> {
        check_mandatory(&self.headers)?;
        let (_, method) = self.headers.cseq()?;
        if method != self.method {
            return Err(err(
                SipErrorKind::CSeqMismatch,
                format!("CSeq method {method} does not match {}", self.method),
            ));
        }
        self.headers.from()?;
        self.headers.to()?;
        self.headers.via()?;
        self.headers.max_forwards()?;
        // RFC 3261 §19.1.1: headers (`?Route=…`) are not allowed in a Request-URI (RFC 4475
        // §3.1.2.11 escruri).
        if !self.sip_uri()?.headers.is_empty() {
            return Err(err(
                SipErrorKind::BadUri,
                "headers (`?…`) are not allowed in a Request-URI",
            ));
        }
        Ok(())
    }

    /// Records where the request really came from in the top Via (RFC 3261 §18.2.1,
    /// RFC 3581): `received=` when the sent-by host is not the source IP or `rport` was
    /// asked for, and `rport=` filled with the source port. Responses built with
    /// [`super::response_to`] then route back through NAT.
    pub fn stamp_received(&mut self, source: SocketAddr) -> Result<(), SipError> {
        let mut vias: Vec<String> = self
            .headers
            .get_all("Via")
            .into_iter()
            .map(str::to_string)
            .collect();
        let Some(first) = vias.first_mut() else {
            return Err(err(SipErrorKind::MissingHeader, "missing Via"));
        };
        let mut top = Via::parse(first)?;
        let same_host = top.host.parse::<IpAddr>().ok() == Some(source.ip());
        if same_host && top.rport.is_none() {
            return Ok(());
        }
        top.received = Some(source.ip().to_string());
        if top.rport.is_some() {
            top.rport = Some(Some(source.port()));
        }
        *first = top.to_string();
        self.headers.replace_all("Via", vias);
        Ok(())
    }

    /// The request on the wire, with a Content-Length matching the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0", self.method, self.uri);
        serialise(&start, &self.headers, &self.body)
    }

    /// The same request with a body and its Content-Type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = attach_body(&mut self.headers, content_type, body);
        self
    }
}

impl Response {
    /// Checks the headers every response carries (Via, From, To, Call-ID, CSeq).
    pub fn check(&self) -> Result<(), SipError> {
        check_mandatory(&self.headers)?;
        self.headers.cseq()?;
        self.headers.via()?;
        Ok(())
    }

    /// The response on the wire, with a Content-Length matching the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}", self.status, self.reason);
        serialise(&start, &self.headers, &self.body)
    }

    /// The same response with a body and its Content-Type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = attach_body(&mut self.headers, content_type, body);
        self
    }
}

fn check_mandatory(h: &Headers) -> Result<(), SipError> {
    match MANDATORY
        .iter()
        .find(|n| h.get(n).is_none_or(str::is_empty))
    {
        Some(n) => Err(err(SipErrorKind::MissingHeader, format!("missing {n}"))),
        None => Ok(()),
    }
}

fn serialise(start: &str, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    out.push_str(start);
    out.push_str("\r\n");
    let mut wrote_length = false;
    for (name, value) in headers.iter() {
        let value = if name.eq_ignore_ascii_case("Content-Length") {
            if wrote_length {
                continue;
            }
            wrote_length = true;
            body.len().to_string()
        } else {
            value.to_string()
        };
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push_str("\r\n");
    }
    if !wrote_length {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sets Content-Type and Content-Length for `body` and hands the body back.
fn attach_body(headers: &mut Headers, content_type: &str, body: Vec<u8>) -> Vec<u8> {
    headers.set("Content-Type", content_type);
    headers.set("Content-Length", body.len().to_string());
    body
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:humanline@10.0.0.5 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-opt1;rport\r\n\
From: <sip:probe@192.168.1.20>;tag=p1\r\n\
To: <sip:humanline@10.0.0.5>\r\n\
Call-ID: opt-1@192.168.1.20\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

    fn options() -> Request {
        match parse(OPTIONS.as_bytes()) {
            Ok(SipMessage::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn serialising_fixes_content_length_and_round_trips() {
        let req = options().with_body("text/plain", b"hello".to_vec());
        let bytes = req.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Content-Length: 5\r\n"), "{text}");
        assert_eq!(text.matches("Content-Length").count(), 1);
        assert_eq!(parse(&bytes).unwrap(), SipMessage::Request(req));
    }

    #[test]
    fn stamping_a_nat_source_fills_received_and_rport() {
        let mut req = options();
        req.stamp_received("203.0.113.9:40000".parse().unwrap())
            .unwrap();
        assert_eq!(
            req.headers.get("Via"),
            Some("SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-opt1;received=203.0.113.9;rport=40000")
        );
    }

    #[test]
    fn stamping_from_the_sent_by_address_without_rport_changes_nothing() {
        let mut req = options();
        req.headers
            .set("Via", "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-x");
        let before = req.clone();
        req.stamp_received("192.168.1.20:5060".parse().unwrap())
            .unwrap();
        assert_eq!(req, before);
    }
}
