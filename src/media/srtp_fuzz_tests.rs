//! Fuzz targets for SRTP: arbitrary bytes never open (an 80-bit tag cannot be guessed), and
//! every RTP packet we protect opens at the other end to exactly itself, while any one byte
//! changed on the wire makes it fail.

use proptest::prelude::*;

use super::*;
use crate::fuzz_support::config;
use crate::sip::sdes::MasterKey;

fn key(suite: Suite) -> Crypto {
    Crypto {
        tag: 1,
        suite,
        key: MasterKey::random().unwrap(),
    }
}

fn pair(suite: Suite) -> (SrtpSession, SrtpSession) {
    let (a, b) = (key(suite), key(suite));
    (
        SrtpSession::new(&a, &b).unwrap(),
        SrtpSession::new(&b, &a).unwrap(),
    )
}

/// An RTP packet: version 2, no CSRC or extension, any marker/type/numbers, any payload.
fn rtp() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(mpt, seq, ts, ssrc, payload)| {
            let mut p = vec![0x80, mpt];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&ts.to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend_from_slice(&payload);
            p
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_srtp_arbitrary_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (_, mut b) = pair(Suite::AesCm128HmacSha1_80);
        prop_assert!(b.unprotect(&bytes).is_err());
        prop_assert!(b.unprotect_rtcp(&bytes).is_err());
    }

    #[test]
    fn fuzz_srtp_round_trip_and_tamper(pkt in rtp(), at in any::<prop::sample::Index>(), flip in 1u8..=255, short in any::<bool>()) {
        let suite = if short { Suite::AesCm128HmacSha1_32 } else { Suite::AesCm128HmacSha1_80 };
        let (mut a, mut b) = pair(suite);
        let wire = a.protect(&pkt).unwrap();
        let mut bad = wire.clone();
        bad[at.index(wire.len())] ^= flip;
        prop_assert!(b.unprotect(&bad).is_err(), "a changed byte is caught");
        prop_assert_eq!(b.unprotect(&wire).unwrap(), pkt);
    }
}
