//! What a transaction or dialog refuses to do, and why.

use crate::sip::SipError;

/// A transaction or dialog operation that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// The message lacks what a transaction or dialog is matched by (Via, CSeq, tags…).
    #[error("cannot match the message to a transaction or dialog: {0}")]
    Unmatchable(#[from] SipError),
    /// The transaction user tried to send a response the state does not allow (a second
    /// final response, a provisional after the final). The response was not sent.
    #[error(
        "a {status} response cannot be sent in state {state}: the final response was already sent"
    )]
    FinalAlreadySent {
        /// The refused status.
        status: u16,
        /// The transaction's state, for the log.
        state: &'static str,
    },
    /// A request in a dialog that is over (after BYE, or after the INVITE failed).
    #[error("the dialog is terminated: no new request can be sent in it")]
    DialogTerminated,
    /// A response that cannot make a dialog (no To tag, a 100, a failure).
    #[error("a {0} response does not create a dialog")]
    NoDialog(u16),
    /// A request in the dialog whose CSeq is lower than the last one (RFC 3261 §12.2.2):
    /// answer 500.
    #[error("CSeq {got} is lower than the dialog's last remote CSeq {last}: out of order")]
    CSeqOutOfOrder {
        /// The request's CSeq number.
        got: u32,
        /// The highest CSeq number seen from the peer.
        last: u32,
    },
}

impl TransactionError {
    /// The status to refuse a peer's request with, when the error is about one.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransactionError::CSeqOutOfOrder { .. } => Some(500),
            TransactionError::DialogTerminated => Some(481),
            TransactionError::Unmatchable(e) => e.status(),
            _ => None,
        }
    }
}
