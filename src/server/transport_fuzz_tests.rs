//! Fuzz target for the server's answer to malformed SIP (`error_reply`): whatever arrives, the
//! refusal sent back is a well-formed response with the status the error asks for, is never
//! sent for a response or for keep-alives, and never grows with the input.

use proptest::prelude::*;

use super::error_reply;
use crate::fuzz_support::{config, mutated_one_of};
use crate::sip::{parse, parse_unchecked, SipErrorKind, SipMessage, MAX_HEADERS, MAX_MESSAGE};

fn fixtures() -> Vec<Vec<u8>> {
    [
        "INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\nFrom: \"A\" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:support@127.0.0.1>\r\nCall-ID: fuzz-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 68\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
        "OPTIONS sip:support@127.0.0.1 SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK-2\r\nf: <sip:a@b>;tag=2\r\nt: <sip:c@d>\r\ni: fuzz-2\r\nCSeq: 2 OPTIONS\r\nl: 0\r\n\r\n",
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-3\r\nFrom: <sip:a@b>;tag=3\r\nTo: <sip:c@d>;tag=4\r\nCall-ID: fuzz-3\r\nCSeq: 3 INVITE\r\nContent-Length: 0\r\n\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn check_refusal(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Err(e) = parse(bytes) else {
        return Ok(());
    };
    let reply = error_reply(bytes, &e);
    let Some(reply) = reply else {
        return Ok(());
    };
    prop_assert!(e.status().is_some(), "keep-alives are never answered");
    prop_assert!(
        !bytes.starts_with(b"SIP/2.0 "),
        "a response is never answered"
    );
    prop_assert!(reply.len() <= MAX_MESSAGE, "{} bytes", reply.len());
    match parse_unchecked(&reply) {
        Ok(SipMessage::Response(r)) => {
            prop_assert_eq!(Some(r.status), e.status());
            prop_assert!(
                r.headers.get("Via").is_some(),
                "the refusal routes back by Via"
            );
        }
        // RFC 3261 §8.2.6.2 copies every Via: a request near our header limit gets a reply
        // (Server and Content-Length added) just over it. Other stacks' limits differ; ours
        // bounds what we accept, not what a peer earned by sending 126 Vias.
        Err(e2) if e2.kind == SipErrorKind::TooLarge => {
            let request_headers = match parse_unchecked(bytes) {
                Ok(SipMessage::Request(r)) => r.headers.len(),
                _ => 0,
            };
            prop_assert!(request_headers + 3 > MAX_HEADERS, "{e2}");
        }
        other => prop_assert!(
            false,
            "the refusal is no response: {:?}\n{}",
            other,
            String::from_utf8_lossy(&reply)
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_server_refusals_are_well_formed_responses(bytes in mutated_one_of(fixtures(), 8)) {
        check_refusal(&bytes)?;
    }

    #[test]
    fn fuzz_server_refusals_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_refusal(&bytes)?;
    }
}
