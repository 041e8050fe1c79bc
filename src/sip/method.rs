//! SIP request methods.

use std::fmt;

/// A SIP request method. Methods are case-sensitive (`invite` is an unknown method).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE: start or modify a session.
    Invite,
    /// ACK: confirm a final response to INVITE.
    Ack,
    /// BYE: end a session.
    Bye,
    /// CANCEL: abandon a pending INVITE.
    Cancel,
    /// OPTIONS: ask for capabilities (also used as a ping).
    Options,
    /// REGISTER: bind an address of record.
    Register,
    /// INFO: mid-dialog information (e.g. SIP INFO DTMF).
    Info,
    /// UPDATE: modify a session before it is confirmed.
    Update,
    /// PRACK: acknowledge a reliable provisional response.
    Prack,
    /// REFER: ask the peer to call someone.
    Refer,
    /// NOTIFY: event notification.
    Notify,
    /// SUBSCRIBE: ask for event notifications.
    Subscribe,
    /// MESSAGE: instant message.
    Message,
    /// Any other method token.
    Other(String),
}

impl Method {
    /// Reads a method token; `None` when `s` is not a valid token.
    pub fn from_token(s: &str) -> Option<Method> {
        if !is_token(s) {
            return None;
        }
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            other => Method::Other(other.to_string()),
        })
    }

    /// The method as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 3261 `token`: one or more of alphanumerics and `-.!%*_+`'~`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_round_trip_and_unknown_are_kept() {
        for m in [
            "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PUBLISH",
        ] {
            assert_eq!(Method::from_token(m).map(|m| m.to_string()), Some(m.into()));
        }
        assert_eq!(
            Method::from_token("invite"),
            Some(Method::Other("invite".into()))
        );
        assert_eq!(Method::from_token("IN VITE"), None);
        assert_eq!(Method::from_token(""), None);
    }
}
