//! The identifiers of an established dialog and the in-dialog requests built from them.
//! Pure data: whoever owns the call keeps the [`Dialog`] and its CSeq counter.

use super::builder::{LocalVia, RequestBuilder};
use super::error::{err, SipError, SipErrorKind};
use super::ids::new_branch;
use super::message::{Request, Response};
use super::method::Method;
use super::name_addr::NameAddr;

/// One side's view of a dialog (RFC 3261 §12). Route sets are assumed loose-routing (`lr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The Call-ID.
    pub call_id: String,
    /// Our address with our tag (goes in From of our requests).
    pub local: NameAddr,
    /// The peer's address with its tag (goes in To of our requests).
    pub remote: NameAddr,
    /// Where our requests go: the peer's Contact.
    pub remote_target: String,
    /// Route headers for our requests, in order.
    pub route_set: Vec<String>,
    /// The CSeq number of our last request.
    pub local_cseq: u32,
}

impl Dialog {
    /// The dialog we join by answering `invite` with a 2xx carrying `local_tag`.
    pub fn as_uas(invite: &Request, local_tag: &str) -> Result<Dialog, SipError> {
        let h = &invite.headers;
        let remote = h.from()?;
        Ok(Dialog {
            call_id: call_id(h.call_id())?,
            local: h.to()?.with_tag(local_tag),
            remote_target: h.contact().map_or_else(|| remote.uri.clone(), |c| c.uri),
            remote,
            route_set: h
                .get_all("Record-Route")
                .into_iter()
                .map(str::to_string)
                .collect(),
            local_cseq: 0,
        })
    }

    /// The dialog our `invite` created when `resp` (a 2xx, or 1xx with a To tag) came back.
    pub fn as_uac(invite: &Request, resp: &Response) -> Result<Dialog, SipError> {
        let remote = resp.headers.to()?;
        if remote.tag().is_none() {
            return Err(err(SipErrorKind::BadHeaderValue, "response To has no tag"));
        }
        let mut route_set: Vec<String> = resp
            .headers
            .get_all("Record-Route")
            .into_iter()
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            call_id: call_id(invite.headers.call_id())?,
            local: invite.headers.from()?,
            remote_target: resp
                .headers
                .contact()
                .map_or_else(|| remote.uri.clone(), |c| c.uri),
            remote,
            route_set,
            local_cseq: invite.headers.cseq()?.0,
        })
    }

    /// A new in-dialog request (BYE, INFO, re-INVITE…) with the next CSeq and a new branch.
    pub fn request(&mut self, method: Method, via: &LocalVia) -> Result<RequestBuilder, SipError> {
        self.local_cseq = self.local_cseq.wrapping_add(1).max(1);
        let mut b = RequestBuilder::new(method, self.remote_target.clone())
            .via(&via.host, via.port, &via.transport, &new_branch())
            .from(self.local.clone())
            .to(self.remote.clone())
            .call_id(self.call_id.clone())
            .cseq(self.local_cseq);
        for r in &self.route_set {
            b = b.route(r.clone());
        }
        Ok(b)
    }
}

/// The BYE ending `dialog`, sent from `via`.
pub fn bye_for_dialog(dialog: &mut Dialog, via: &LocalVia) -> Result<Request, SipError> {
    dialog.request(Method::Bye, via)?.build()
}

fn call_id(id: Option<&str>) -> Result<String, SipError> {
    id.map(str::to_string)
        .ok_or_else(|| err(SipErrorKind::MissingHeader, "missing Call-ID"))
}
