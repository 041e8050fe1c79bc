use super::*;
use crate::sip::sdes::MasterKey;

/// The AES_CM_128_HMAC_SHA1_80 test vectors of libsrtp's `srtp_validate` (SSRC 0xcafebabe,
/// sequence 0x1234, ROC 0), the reference every SRTP implementation checks against.
const KEY: [u8; 16] = [
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
];
const SALT: [u8; 14] = [
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
];
const RTP_PLAIN: [u8; 28] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
];
const SRTP: [u8; 38] = [
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c,
    0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc,
    0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
];
const RTCP_PLAIN: [u8; 24] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
];
const SRTCP: [u8; 38] = [
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd,
    0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd,
    0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
];

fn vector_key() -> Crypto {
    Crypto {
        tag: 1,
        suite: Suite::AesCm128HmacSha1_80,
        key: MasterKey {
            key: KEY,
            salt: SALT,
        },
    }
}

fn random_key() -> Crypto {
    Crypto {
        key: MasterKey::random().unwrap(),
        ..vector_key()
    }
}

#[test]
fn protect_matches_the_libsrtp_test_vector() {
    let mut s = SrtpSession::new(&vector_key(), &random_key()).unwrap();
    assert_eq!(s.protect(&RTP_PLAIN).unwrap(), SRTP);
}

#[test]
fn unprotect_opens_the_libsrtp_test_vector() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    assert_eq!(s.unprotect(&SRTP).unwrap(), RTP_PLAIN);
}

#[test]
fn srtcp_matches_the_libsrtp_test_vector_both_ways() {
    let mut out = SrtpSession::new(&vector_key(), &random_key()).unwrap();
    assert_eq!(out.protect_rtcp(&RTCP_PLAIN).unwrap(), SRTCP);
    let mut inb = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    assert_eq!(inb.unprotect_rtcp(&SRTCP).unwrap(), RTCP_PLAIN);
}

#[test]
fn a_flipped_bit_fails_authentication() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    for i in [1, 12, 20, 37] {
        let mut bad = SRTP;
        bad[i] ^= 0x01;
        assert!(s.unprotect(&bad).is_err(), "byte {i} changed");
    }
    assert_eq!(s.unprotect(&SRTP).unwrap(), RTP_PLAIN);
}

#[test]
fn a_replayed_packet_is_refused() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    assert!(s.unprotect(&SRTP).is_ok());
    assert!(s.unprotect(&SRTP).is_err(), "the same packet again");
}

#[test]
fn round_trip_between_two_ends_with_fresh_keys() {
    let (a_key, b_key) = (random_key(), random_key());
    let mut a = SrtpSession::new(&a_key, &b_key).unwrap();
    let mut b = SrtpSession::new(&b_key, &a_key).unwrap();
    for seq in 0u16..50 {
        let mut pkt = RTP_PLAIN;
        pkt[2..4].copy_from_slice(&seq.to_be_bytes());
        let wire = a.protect(&pkt).unwrap();
        assert_ne!(&wire[12..28], &pkt[12..], "the payload is encrypted");
        assert_eq!(wire.len(), pkt.len() + 10, "an 80-bit tag");
        assert_eq!(b.unprotect(&wire).unwrap(), pkt);
        let back = b.protect(&pkt).unwrap();
        assert_eq!(a.unprotect(&back).unwrap(), pkt);
    }
}

#[test]
fn the_32_bit_suite_has_a_4_byte_tag() {
    let k = |c: Crypto| Crypto {
        suite: Suite::AesCm128HmacSha1_32,
        ..c
    };
    let (a_key, b_key) = (k(random_key()), k(random_key()));
    let mut a = SrtpSession::new(&a_key, &b_key).unwrap();
    let mut b = SrtpSession::new(&b_key, &a_key).unwrap();
    let wire = a.protect(&RTP_PLAIN).unwrap();
    assert_eq!(wire.len(), RTP_PLAIN.len() + 4);
    assert_eq!(b.unprotect(&wire).unwrap(), RTP_PLAIN);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    for n in 0..40 {
        let junk = vec![0x80u8; n];
        assert!(s.unprotect(&junk).is_err());
        assert!(s.unprotect_rtcp(&junk).is_err());
    }
}

#[test]
fn a_forged_first_packet_does_not_shut_out_the_real_ones() {
    // rtc-srtp alone would start its replay window at the forged packet's number.
    let (a_key, b_key) = (random_key(), random_key());
    let mut a = SrtpSession::new(&a_key, &b_key).unwrap();
    let mut b = SrtpSession::new(&b_key, &a_key).unwrap();
    let mut forged = a.protect(&RTP_PLAIN).unwrap();
    forged[2] = 0x90; // a sequence number far ahead, tag no longer valid
    assert!(b.unprotect(&forged).is_err());
    for seq in [0x1235u16, 0x1236] {
        let mut p = RTP_PLAIN;
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        let w = a.protect(&p).unwrap();
        assert_eq!(b.unprotect(&w).unwrap(), p, "seq {seq:#x}");
    }
}

#[test]
fn unencrypted_srtcp_is_refused_even_though_it_carries_no_valid_tag() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    let mut clear = RTCP_PLAIN.to_vec();
    clear.extend_from_slice(&[0x00, 0x00, 0x00, 0x01]); // E = 0, index 1
    clear.extend_from_slice(&[0u8; 10]);
    assert!(s.unprotect_rtcp(&clear).is_err());
}

#[test]
fn at_most_a_few_ssrcs_are_tried() {
    let mut s = SrtpSession::new(&random_key(), &vector_key()).unwrap();
    for ssrc in 0..(MAX_SSRCS as u32 + 3) {
        let mut p = SRTP;
        p[8..12].copy_from_slice(&ssrc.to_be_bytes());
        assert!(s.unprotect(&p).is_err());
    }
    assert_eq!(s.windows.len(), MAX_SSRCS);
}

#[test]
fn the_replay_window_follows_rfc_3711() {
    let mut w = ReplayWindow::default();
    assert!(w.fresh(w.index(65535)));
    w.accept(65535);
    // Across the wrap: 0 after 65535 is 65536.
    assert_eq!(w.index(0), 65536);
    w.accept(65536);
    assert!(!w.fresh(w.index(65535)), "seen");
    assert!(w.fresh(w.index(65534)), "inside the window, not seen");
    assert!(!w.fresh(w.index(65472)), "too old (64 back)");
    w.accept(w.index(200));
    assert_eq!(w.index(100), 65536 + 100);
}
