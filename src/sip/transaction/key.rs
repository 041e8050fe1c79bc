//! Which transaction a message belongs to (RFC 3261 §17.1.3 and §17.2.3).
//!
//! A client transaction is found by the branch of the top Via and the CSeq method of a
//! response. A server transaction is found by the branch, the sent-by of the top Via and the
//! method, where an ACK counts as the INVITE it acknowledges; a CANCEL has the same branch as
//! its INVITE but a transaction of its own ([`ServerKey::cancelled_invite`] finds the INVITE).
//! Requests from RFC 2543 peers (a branch without the `z9hG4bK` cookie) are keyed by Call-ID,
//! CSeq number, From tag and top Via instead: a simplification of §17.2.3's rules that is
//! enough to recognise their retransmissions.

use super::TransactionError;
use crate::sip::{Method, Request, Response, SipError, SipErrorKind, Via, BRANCH_COOKIE};

/// The key of a client transaction: our branch and the request's method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    /// The branch we put in the top Via.
    pub branch: String,
    /// The method of the request (CSeq method of its responses).
    pub method: Method,
}

impl ClientKey {
    /// The key of a request we send.
    pub fn of_request(req: &Request) -> Result<ClientKey, TransactionError> {
        Ok(ClientKey {
            branch: top_via(&req.headers.via()?)?
                .branch
                .clone()
                .ok_or_else(|| unmatchable("our request has no branch"))?,
            method: req.method.clone(),
        })
    }

    /// The key of the client transaction a response belongs to.
    pub fn of_response(resp: &Response) -> Result<ClientKey, TransactionError> {
        let (_, method) = resp.headers.cseq()?;
        Ok(ClientKey {
            branch: top_via(&resp.headers.via()?)?
                .branch
                .clone()
                .ok_or_else(|| unmatchable("response has no branch"))?,
            method,
        })
    }
}

/// The key of a server transaction: branch, sent-by and method (ACK folded into INVITE).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    /// The top Via branch (or the RFC 2543 stand-in).
    pub branch: String,
    /// The top Via sent-by, `host:port` (port 5060 when absent), host lower-cased.
    pub sent_by: String,
    /// The request method; ACK is keyed as INVITE.
    pub method: Method,
}

impl ServerKey {
    /// The key of the server transaction `req` belongs to (§17.2.3).
    pub fn of(req: &Request) -> Result<ServerKey, TransactionError> {
        let vias = req.headers.via()?;
        let via = top_via(&vias)?;
        let sent_by = format!(
            "{}:{}",
            via.host.to_ascii_lowercase(),
            via.port.unwrap_or(5060)
        );
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        let branch = match &via.branch {
            Some(b) if b.starts_with(BRANCH_COOKIE) => b.clone(),
            _ => rfc2543_branch(req)?,
        };
        Ok(ServerKey {
            branch,
            sent_by,
            method,
        })
    }

    /// For a CANCEL's key: the key of the INVITE it cancels (§9.2). `None` for other methods.
    pub fn cancelled_invite(&self) -> Option<ServerKey> {
        (self.method == Method::Cancel).then(|| ServerKey {
            method: Method::Invite,
            ..self.clone()
        })
    }
}

fn top_via(vias: &[Via]) -> Result<&Via, TransactionError> {
    vias.first().ok_or_else(|| unmatchable("no Via"))
}

fn unmatchable(why: &str) -> TransactionError {
    TransactionError::Unmatchable(SipError::new(SipErrorKind::MissingHeader, why))
}

/// A stand-in branch for a request without an RFC 3261 branch.
fn rfc2543_branch(req: &Request) -> Result<String, TransactionError> {
    let call_id = req
        .headers
        .call_id()
        .ok_or_else(|| unmatchable("no Call-ID"))?;
    let (n, _) = req.headers.cseq()?;
    let from = req.headers.from()?;
    Ok(format!(
        "rfc2543:{call_id}:{n}:{}",
        from.tag().unwrap_or_default()
    ))
}
