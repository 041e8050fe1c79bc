//! Fuzz targets for media packets: RTP (`parse_rtp` against an independent reading of
//! RFC 3550 §5.1), RTCP sharing the port (RFC 5761: never taken for audio), RFC 4733
//! telephone-event streams (one digit per key press, whatever the network does to the
//! packets), the jitter buffer and the in-band DTMF detector on hostile PCM.

use proptest::prelude::*;

use super::*;
use crate::fuzz_support::{config, mutated_one_of};

/// RFC 3550 §5.1 read independently of `parse_rtp`: `(pt, marker, seq, ts, ssrc, payload
/// range)`, or `None` for a packet that is not well-formed RTP v2 or is RTCP (RFC 5761 §4).
type Fields = (u8, bool, u16, u32, u32, std::ops::Range<usize>);

fn reference(buf: &[u8]) -> Option<Fields> {
    if buf.len() < 12 || buf[0] >> 6 != 2 || (192..=223).contains(&buf[1]) {
        return None;
    }
    let mut start = 12 + 4 * usize::from(buf[0] & 0x0F);
    if buf[0] & 0x10 != 0 {
        if buf.len() < start + 4 {
            return None;
        }
        start += 4 + 4 * usize::from(u16::from_be_bytes([buf[start + 2], buf[start + 3]]));
    }
    let mut end = buf.len();
    if start > end {
        return None;
    }
    if buf[0] & 0x20 != 0 {
        let pad = usize::from(*buf.last()?);
        if pad == 0 || start + pad > end {
            return None;
        }
        end -= pad;
    }
    let word = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    Some((
        buf[1] & 0x7F,
        buf[1] & 0x80 != 0,
        u16::from_be_bytes([buf[2], buf[3]]),
        word(4),
        word(8),
        start..end,
    ))
}

fn check_rtp(buf: &[u8]) -> Result<(), TestCaseError> {
    let got = parse_rtp(buf).map(|v| {
        let start = v.payload.as_ptr() as usize - buf.as_ptr() as usize;
        (
            v.payload_type,
            v.marker,
            v.sequence,
            v.timestamp,
            v.ssrc,
            start..start + v.payload.len(),
        )
    });
    prop_assert_eq!(got, reference(buf));
    Ok(())
}

/// Packets as our sender and real phones write them: audio, a telephone event, and packets
/// with CSRCs, a header extension and padding.
fn packets() -> Vec<Vec<u8>> {
    let mut tx = RtpSender::new(0x1234_5678, 0, 65_530, u32::MAX - 200);
    let audio = tx.packet(&[0xFF; 160], true, 160).to_vec();
    let event = tx
        .event_packet(101, &rfc4733_payload('5', false, 10, 160).unwrap(), true)
        .to_vec();
    let mut fancy = vec![0xB2, 8, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    fancy.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 10]); // two CSRCs
    fancy.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]); // one-word extension
    fancy.extend_from_slice(&[0xD5; 20]);
    fancy.extend_from_slice(&[0, 0, 3]); // padding
    vec![audio, event, fancy]
}

/// An RTCP compound packet of `kind` (SR 200 … APP 204) with a length field that may lie.
fn rtcp() -> impl Strategy<Value = Vec<u8>> {
    (
        200u8..=204,
        0u8..32,
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..120),
        any::<bool>(),
    )
        .prop_map(|(pt, count, len, body, padded)| {
            let mut p = vec![0x80 | (u8::from(padded) << 5) | count, pt];
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&body);
            p
        })
}

/// How the network mangles one key press: packets dropped, duplicated, resent late.
#[derive(Debug, Clone)]
struct Press {
    event: u8,
    packets: u16,
    gap: u32,
    dropped: Vec<bool>,
    duplicated: Vec<bool>,
    late_repeat_of_previous: bool,
}

fn press() -> impl Strategy<Value = Press> {
    (
        0u8..16,
        1u16..40,
        0u32..16_000,
        proptest::collection::vec(any::<bool>(), 43),
        proptest::collection::vec(any::<bool>(), 43),
        any::<bool>(),
    )
        .prop_map(|(event, packets, gap, dropped, duplicated, late)| Press {
            event,
            packets,
            gap,
            dropped,
            duplicated,
            late_repeat_of_previous: late,
        })
}

const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_rtp_arbitrary_bytes(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_rtp(&buf)?;
    }

    #[test]
    fn fuzz_rtp_mutated_packets(buf in mutated_one_of(packets(), 6)) {
        check_rtp(&buf)?;
    }

    #[test]
    fn fuzz_rtcp_is_never_taken_for_audio(pkt in rtcp()) {
        prop_assert_eq!(parse_rtp(&pkt), None);
    }

    /// Each key press is reported exactly once and in order: continuation packets, the three
    /// end packets, duplicates, a lost first packet and a late packet of the previous press
    /// after the next one began never add or lose a digit; timestamps may wrap.
    #[test]
    fn fuzz_rfc4733_one_digit_per_key_press(
        start in any::<u32>(),
        presses in proptest::collection::vec(press(), 1..8),
    ) {
        let mut rx = Rfc4733Receiver::new();
        let mut got = Vec::new();
        let mut ts = start;
        let mut previous_end: Option<(u32, [u8; 4])> = None;
        for (k, p) in presses.iter().enumerate() {
            let digit = KEYS[usize::from(p.event)];
            let total = p.packets + 3;
            let mut last_duration = 0u16;
            let mut sent_any = false;
            for i in 0..total {
                let end = i >= p.packets;
                let duration = (u32::from(i.min(p.packets) + 1) * 160).min(u32::from(u16::MAX));
                let duration = u16::try_from(duration).unwrap_or(u16::MAX);
                prop_assert!(duration >= last_duration, "durations grow and never wrap");
                last_duration = duration;
                let payload = rfc4733_payload(digit, end, 10, duration).unwrap();
                // Keep at least one packet of every press (a press wholly lost is no press).
                let keep = !p.dropped[usize::from(i)] || (i + 1 == total && !sent_any);
                if !keep {
                    continue;
                }
                let copies = if p.duplicated[usize::from(i)] { 2 } else { 1 };
                for _ in 0..copies {
                    got.extend(rx.on_packet(ts, &payload));
                }
                sent_any = true;
                if i == 0 && p.late_repeat_of_previous {
                    if let Some((old_ts, old)) = previous_end {
                        got.extend(rx.on_packet(old_ts, &old));
                    }
                }
                if end {
                    previous_end = Some((ts, payload));
                }
            }
            let want: Vec<char> = presses[..=k].iter().map(|p| KEYS[usize::from(p.event)]).collect();
            prop_assert_eq!(&got, &want);
            ts = ts.wrapping_add(u32::from(last_duration) + 160 + p.gap);
        }
    }

    /// On any stream at all, a digit needs a packet of at least 4 bytes naming a DTMF event,
    /// and one timestamp never yields two digits in a row.
    #[test]
    fn fuzz_rfc4733_arbitrary_packets(
        stream in proptest::collection::vec(
            (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..8)), 0..60),
    ) {
        let mut rx = Rfc4733Receiver::new();
        let mut last_reported: Option<u32> = None;
        for (ts, payload) in &stream {
            if let Some(d) = rx.on_packet(*ts, payload) {
                prop_assert!(payload.len() >= 4 && payload[0] < 16);
                prop_assert_eq!(d, KEYS[usize::from(payload[0])]);
                prop_assert_ne!(last_reported, Some(*ts));
                last_reported = Some(*ts);
            }
        }
    }

    /// Whatever order, duplicates and sizes arrive in, the buffer only ever plays a frame that
    /// was pushed with that sequence number, cut to `MAX_FRAME_BYTES`.
    #[test]
    fn fuzz_jitter_buffer_plays_only_what_was_pushed(
        depth in 0usize..20,
        ops in proptest::collection::vec(
            prop_oneof![
                3 => (any::<u16>(), 2usize..400).prop_map(|(s, n)| Some((s, n))),
                2 => Just(None),
            ],
            0..200,
        ),
        base in any::<u16>(),
    ) {
        let mut jb = JitterBuffer::new(depth);
        let mut pushed: std::collections::HashMap<u16, Vec<Vec<u8>>> = Default::default();
        for op in ops {
            match op {
                Some((off, len)) => {
                    let seq = base.wrapping_add(off % 300);
                    let mut payload = vec![(len % 251) as u8; len];
                    payload[..2].copy_from_slice(&seq.to_be_bytes());
                    jb.push(seq, &payload);
                    pushed.entry(seq).or_default().push(payload);
                }
                None => {
                    if let Some(frame) = jb.pop() {
                        prop_assert!(frame.len() <= MAX_FRAME_BYTES);
                        prop_assert!(frame.len() >= 2, "a 2-byte frame came back as {:?}", frame);
                        let seq = u16::from_be_bytes([frame[0], frame[1]]);
                        let sent = pushed.get(&seq).into_iter().flatten();
                        let n = frame.len();
                        prop_assert!(
                            sent.clone().any(|p| p.len().min(MAX_FRAME_BYTES) == n && p.starts_with(frame)),
                            "played {} bytes as seq {}", n, seq
                        );
                    }
                }
            }
        }
    }

    /// Noise, clipping and silence in any mix: the detector never reports digits faster than
    /// a key press can last (about 40 ms of tone and 35 ms of gap each).
    #[test]
    fn fuzz_inband_detector_on_hostile_pcm(
        chunks in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<i16>(), 0..400),
                (any::<i16>(), 0usize..400).prop_map(|(v, n)| vec![v; n]),
            ],
            0..20,
        ),
    ) {
        let mut det = InbandDetector::new();
        let mut digits = 0usize;
        let mut samples = 0usize;
        for c in &chunks {
            samples += c.len();
            let mut next = det.push(c);
            while next.is_some() && digits <= 64 {
                digits += 1;
                next = det.push(&[]);
            }
        }
        prop_assert!(digits <= samples / 500 + 1, "{} digits in {} samples", digits, samples);
    }
}
