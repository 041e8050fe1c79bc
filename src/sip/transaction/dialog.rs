//! The INVITE dialog as a sans-IO value (RFC 3261 §12): its identifiers, state, route set,
//! remote target and both CSeq counters. The wire data lives in [`crate::sip::Dialog`]; this
//! type adds the rules: early → confirmed → terminated, route set and target from the right
//! message, out-of-order requests refused, no new request after the end.
//!
//! ```text
//!   UAC: 1xx with To tag ─► Early ─2xx─► Confirmed ─BYE / ACK timeout─► Terminated
//!        2xx ────────────────────────► Confirmed      3xx–6xx on Early ─► Terminated
//!   UAS: our 1xx/2xx with our tag ─► Early ─confirm() (2xx sent)─► Confirmed
//! ```

use super::TransactionError;
use crate::sip::{Dialog, LocalVia, Method, Request, RequestBuilder, Response};

/// Where a dialog is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response with a To tag; no 2xx yet.
    Early,
    /// A 2xx was sent or received.
    Confirmed,
    /// Over: BYE, a failure of an early dialog, or no ACK for our 2xx.
    Terminated,
}

/// Which side of the dialog we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We sent the INVITE.
    Uac,
    /// We received the INVITE.
    Uas,
}

/// A dialog's identity (§12): Call-ID and both tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// One INVITE dialog, from our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteDialog {
    data: Dialog,
    role: Role,
    state: DialogState,
    remote_cseq: Option<u32>,
}

impl InviteDialog {
    /// The dialog a response to our `invite` creates (§12.1.2): early for a 101–199 with a To
    /// tag, confirmed for a 2xx. Route set (Record-Route reversed) and remote target (Contact)
    /// come from `resp`.
    pub fn uac(invite: &Request, resp: &Response) -> Result<InviteDialog, TransactionError> {
        let state = match resp.status {
            101..=199 => DialogState::Early,
            200..=299 => DialogState::Confirmed,
            s => return Err(TransactionError::NoDialog(s)),
        };
        let data =
            Dialog::as_uac(invite, resp).map_err(|_| TransactionError::NoDialog(resp.status))?;
        Ok(InviteDialog {
            data,
            role: Role::Uac,
            state,
            remote_cseq: None,
        })
    }

    /// The dialog we create by answering `invite` with `local_tag` (§12.1.1), early until
    /// [`InviteDialog::confirm`]. The remote CSeq starts at the INVITE's.
    pub fn uas(invite: &Request, local_tag: &str) -> Result<InviteDialog, TransactionError> {
        Ok(InviteDialog {
            data: Dialog::as_uas(invite, local_tag)?,
            role: Role::Uas,
            state: DialogState::Early,
            remote_cseq: Some(invite.headers.cseq()?.0),
        })
    }

    /// Which side we are.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the dialog is.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// The identifiers and in-dialog request data.
    pub fn data(&self) -> &Dialog {
        &self.data
    }

    /// Call-ID and tags.
    pub fn id(&self) -> DialogId {
        DialogId {
            call_id: self.data.call_id.clone(),
            local_tag: self.data.local.tag().unwrap_or_default().to_string(),
            remote_tag: self.data.remote.tag().unwrap_or_default().to_string(),
        }
    }

    /// The route set, in the order our requests carry it.
    pub fn route_set(&self) -> &[String] {
        &self.data.route_set
    }

    /// Where our requests go (the peer's Contact).
    pub fn remote_target(&self) -> &str {
        &self.data.remote_target
    }

    /// The CSeq number of our last request.
    pub fn local_cseq(&self) -> u32 {
        self.data.local_cseq
    }

    /// The highest CSeq number seen from the peer, if any.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_cseq
    }

    /// True when `req` is in this dialog (Call-ID, its From tag is the peer's, its To tag ours).
    pub fn matches(&self, req: &Request) -> bool {
        let id = self.id();
        let tag =
            |a: Result<crate::sip::NameAddr, _>| a.ok().and_then(|a| a.tag().map(str::to_string));
        req.headers.call_id() == Some(id.call_id.as_str())
            && tag(req.headers.from()).as_deref() == Some(id.remote_tag.as_str())
            && tag(req.headers.to()).as_deref() == Some(id.local_tag.as_str())
    }

    /// UAC: a later response to our INVITE. A 2xx confirms an early dialog and its route set
    /// and target replace the early ones (§12.1.2, §12.2.1.2); a 3xx–6xx ends an early dialog
    /// (§12.3); a 1xx refreshes the target.
    pub fn on_invite_response(&mut self, invite: &Request, resp: &Response) {
        match (self.state, resp.status) {
            (DialogState::Early, 101..=299) => {
                if let Ok(fresh) = Dialog::as_uac(invite, resp) {
                    if fresh.remote == self.data.remote {
                        self.data.remote_target = fresh.remote_target;
                        self.data.route_set = fresh.route_set;
                    }
                }
                if resp.status >= 200 {
                    self.state = DialogState::Confirmed;
                }
            }
            (DialogState::Early, s) if s >= 300 => self.state = DialogState::Terminated,
            _ => {}
        }
    }

    /// UAS: our 2xx went out.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// A request from the peer in this dialog (§12.2.2). Refused when it is out of order
    /// (500) or the dialog is over (481); a re-INVITE with a Contact refreshes the target; a
    /// BYE ends the dialog. ACK and CANCEL carry the INVITE's number and are not counted.
    pub fn on_request(&mut self, req: &Request) -> Result<(), TransactionError> {
        if self.state == DialogState::Terminated {
            return Err(TransactionError::DialogTerminated);
        }
        if matches!(req.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let (got, _) = req.headers.cseq()?;
        if let Some(last) = self.remote_cseq {
            if got < last {
                return Err(TransactionError::CSeqOutOfOrder { got, last });
            }
        }
        self.remote_cseq = Some(got);
        match req.method {
            Method::Invite | Method::Update => {
                if let Some(c) = req.headers.contact() {
                    self.data.remote_target = c.uri;
                }
            }
            Method::Bye => self.state = DialogState::Terminated,
            _ => {}
        }
        Ok(())
    }

    /// A new request of ours in the dialog (§12.2.1.1): the next CSeq, the remote target, the
    /// route set, a new branch. A BYE ends the dialog.
    pub fn request(
        &mut self,
        method: Method,
        via: &LocalVia,
    ) -> Result<RequestBuilder, TransactionError> {
        if self.state == DialogState::Terminated {
            return Err(TransactionError::DialogTerminated);
        }
        if method == Method::Bye {
            self.state = DialogState::Terminated;
        }
        Ok(self.data.request(method, via)?)
    }

    /// Ends the dialog (no ACK for our 2xx, the INVITE failed, the session was torn down).
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }
}
