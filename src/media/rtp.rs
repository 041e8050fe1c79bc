//! RTP packets (RFC 3550): building the packets we send and reading the ones we receive.
//!
//! [`RtpSender`] owns the sequence number and timestamp of one outgoing stream and writes each
//! packet into one reused buffer. [`parse_rtp`] reads a datagram from the network with
//! `rtp-rs`, without copying and without ever panicking: anything malformed, truncated or
//! multiplexed RTCP (RFC 5761) gives `None`.

/// Size of the fixed RTP header (no CSRCs, no extension).
pub const RTP_HEADER_LEN: usize = 12;
/// Largest payload [`RtpSender`] puts into one packet; longer payloads are truncated.
pub const MAX_RTP_PAYLOAD: usize = 1500;

/// Builds the RTP packets of one outgoing stream (one SSRC).
#[derive(Debug, Clone)]
pub struct RtpSender {
    ssrc: u32,
    payload_type: u8,
    seq: u16,
    timestamp: u32,
    buf: Box<[u8; RTP_HEADER_LEN + MAX_RTP_PAYLOAD]>,
}

impl RtpSender {
    /// A stream with the given SSRC and payload type, whose first packet carries `initial_seq`
    /// and `initial_ts` (both should be random, RFC 3550 §5.1).
    pub fn new(ssrc: u32, payload_type: u8, initial_seq: u16, initial_ts: u32) -> Self {
        RtpSender {
            ssrc,
            payload_type: payload_type & 0x7F,
            seq: initial_seq,
            timestamp: initial_ts,
            buf: Box::new([0u8; RTP_HEADER_LEN + MAX_RTP_PAYLOAD]),
        }
    }

    /// Builds the next audio packet (header + `payload`, truncated to [`MAX_RTP_PAYLOAD`]) in
    /// the internal buffer, then advances the sequence number by 1 and the timestamp by
    /// `samples` (160 for 20 ms of 8 kHz audio). The slice is valid until the next call.
    pub fn packet(&mut self, payload: &[u8], marker: bool, samples: u32) -> &[u8] {
        let len = self.write(self.payload_type, payload, marker);
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(samples);
        &self.buf[..len]
    }

    /// Changes the payload type of later [`packet`](Self::packet)s (e.g. after a re-INVITE).
    pub fn set_payload_type(&mut self, pt: u8) {
        self.payload_type = pt & 0x7F;
    }

    /// Builds an RFC 4733 telephone-event packet with payload type `pt`: every packet of one
    /// event carries the event's start timestamp, so this advances the sequence number only.
    /// Call [`advance_timestamp`](Self::advance_timestamp) once the event is over.
    pub fn event_packet(&mut self, pt: u8, payload: &[u8], marker: bool) -> &[u8] {
        let len = self.write(pt & 0x7F, payload, marker);
        self.seq = self.seq.wrapping_add(1);
        &self.buf[..len]
    }

    /// Moves the timestamp on by `samples` without sending (silence suppressed, or the
    /// duration of a telephone event just sent).
    pub fn advance_timestamp(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }

    /// Sequence number the next packet will carry.
    pub fn seq(&self) -> u16 {
        self.seq
    }

    /// Timestamp the next packet will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// The SSRC of this stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Writes header and payload into `buf`; returns the packet length.
    fn write(&mut self, pt: u8, payload: &[u8], marker: bool) -> usize {
        let n = payload.len().min(MAX_RTP_PAYLOAD);
        let buf = &mut self.buf;
        buf[0] = 0x80; // version 2, no padding, no extension, no CSRC
        buf[1] = (u8::from(marker) << 7) | pt;
        buf[2..4].copy_from_slice(&self.seq.to_be_bytes());
        buf[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        buf[RTP_HEADER_LEN..RTP_HEADER_LEN + n].copy_from_slice(&payload[..n]);
        RTP_HEADER_LEN + n
    }
}

/// The fields of a received RTP packet, borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpView<'a> {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Marker bit (start of a talkspurt, or the first packet of a telephone event).
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp (8 kHz clock for G.711 and telephone-event).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload after CSRCs and header extension, without padding.
    pub payload: &'a [u8],
}

/// Reads an RTP packet. Returns `None` for anything that is not a well-formed RTP version 2
/// packet: shorter than its header, CSRC list or extension; a padding count of zero or larger
/// than what follows the header; or an RTCP packet multiplexed on the same port (second byte
/// 192..=223, RFC 5761 §4).
pub fn parse_rtp(buf: &[u8]) -> Option<RtpView<'_>> {
    // RTCP shares the first byte's layout; rtp-rs reads it as RTP, so it is told apart first.
    if buf.len() >= 2 && (192..=223).contains(&buf[1]) {
        return None;
    }
    // rtp-rs checks the version and every length (CSRCs, extension, padding) up front and
    // never slices past the datagram afterwards.
    let r = rtp_rs::RtpReader::new(buf).ok()?;
    Some(RtpView {
        payload_type: r.payload_type(),
        marker: r.mark(),
        sequence: r.sequence_number().into(),
        timestamp: r.timestamp(),
        ssrc: r.ssrc(),
        payload: r.payload(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sent_packet_parses_back_to_the_same_fields() {
        let mut tx = RtpSender::new(0xDEAD_BEEF, 0, 1000, 50_000);
        let payload = [0xFFu8; 160];
        let pkt = tx.packet(&payload, true, 160).to_vec();
        assert_eq!(pkt.len(), 172);
        let view = parse_rtp(&pkt).expect("our own packet parses");
        assert_eq!(
            view,
            RtpView {
                payload_type: 0,
                marker: true,
                sequence: 1000,
                timestamp: 50_000,
                ssrc: 0xDEAD_BEEF,
                payload: &payload,
            }
        );
        assert_eq!(tx.seq(), 1001);
        assert_eq!(tx.timestamp(), 50_160);
        assert_eq!(tx.ssrc(), 0xDEAD_BEEF);
    }

    #[test]
    fn sequence_and_timestamp_wrap_around() {
        let mut tx = RtpSender::new(1, 8, u16::MAX, u32::MAX - 100);
        let first = parse_rtp(tx.packet(&[1, 2], false, 160)).map(|v| (v.sequence, v.timestamp));
        assert_eq!(first, Some((u16::MAX, u32::MAX - 100)));
        let second = parse_rtp(tx.packet(&[1, 2], false, 160)).map(|v| (v.sequence, v.timestamp));
        assert_eq!(second, Some((0, 59)));
    }

    #[test]
    fn event_packets_keep_the_timestamp_but_advance_the_sequence() {
        let mut tx = RtpSender::new(7, 0, 10, 8000);
        for i in 0..3u16 {
            let view = parse_rtp(tx.event_packet(101, &[5, 0x8A, 0, 160], i == 0))
                .expect("event packet parses");
            assert_eq!(view.payload_type, 101);
            assert_eq!(view.sequence, 10 + i);
            assert_eq!(view.timestamp, 8000);
            assert_eq!(view.marker, i == 0);
        }
        tx.advance_timestamp(480);
        let audio = parse_rtp(tx.packet(&[0xFF; 160], false, 160)).expect("audio parses");
        assert_eq!(
            (audio.payload_type, audio.sequence, audio.timestamp),
            (0, 13, 8480)
        );
    }

    #[test]
    fn payload_type_change_applies_to_later_packets() {
        let mut tx = RtpSender::new(7, 0, 0, 0);
        tx.set_payload_type(8);
        assert_eq!(
            parse_rtp(tx.packet(&[0xD5], false, 1)).map(|v| v.payload_type),
            Some(8)
        );
    }

    #[test]
    fn oversized_payload_is_truncated_not_a_panic() {
        let mut tx = RtpSender::new(7, 0, 0, 0);
        let big = vec![1u8; 4000];
        assert_eq!(
            tx.packet(&big, false, 160).len(),
            RTP_HEADER_LEN + MAX_RTP_PAYLOAD
        );
    }

    fn header(b0: u8, b1: u8) -> Vec<u8> {
        let mut v = vec![b0, b1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        v.reserve(64);
        v
    }

    #[test]
    fn csrc_list_is_skipped() {
        let mut pkt = header(0x82, 0);
        pkt.extend_from_slice(&[0; 8]); // two CSRCs
        pkt.extend_from_slice(&[9, 9]);
        assert_eq!(parse_rtp(&pkt).map(|v| v.payload), Some(&[9u8, 9][..]));
        assert_eq!(parse_rtp(&pkt[..19]), None, "truncated CSRC list");
    }

    #[test]
    fn header_extension_is_skipped() {
        let mut pkt = header(0x90, 0);
        pkt.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4, 7]);
        assert_eq!(parse_rtp(&pkt).map(|v| v.payload), Some(&[7u8][..]));
        assert_eq!(parse_rtp(&pkt[..15]), None, "truncated extension header");
        assert_eq!(parse_rtp(&pkt[..18]), None, "truncated extension body");
    }

    #[test]
    fn padding_is_removed_and_bad_padding_rejected() {
        let mut pkt = header(0xA0, 0);
        pkt.extend_from_slice(&[5, 6, 0, 0, 3]);
        assert_eq!(parse_rtp(&pkt).map(|v| v.payload), Some(&[5u8, 6][..]));
        let last = pkt.len() - 1;
        pkt[last] = 0;
        assert_eq!(parse_rtp(&pkt), None, "padding count of zero");
        pkt[last] = 6;
        assert_eq!(parse_rtp(&pkt), None, "padding longer than the payload");
        assert_eq!(
            parse_rtp(&header(0xA0, 0)),
            None,
            "padding flag with no payload"
        );
    }

    #[test]
    fn wrong_version_short_packets_and_rtcp_are_rejected() {
        assert_eq!(parse_rtp(&[]), None);
        assert_eq!(parse_rtp(&[0x80; 11]), None);
        assert_eq!(parse_rtp(&header(0x40, 0)), None, "version 1");
        assert_eq!(parse_rtp(&header(0xC0, 0)), None, "version 3");
        for pt in [200u8, 201, 202, 203, 204] {
            assert_eq!(parse_rtp(&header(0x80, pt)), None, "RTCP packet type {pt}");
        }
        let marked = header(0x80, 0x80 | 101);
        let ok = parse_rtp(&marked).expect("marker + PT 101 is RTP");
        assert!(ok.marker);
        assert_eq!(ok.payload_type, 101);
        assert!(ok.payload.is_empty());
    }

    proptest! {
        #[test]
        fn parse_rtp_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(view) = parse_rtp(&bytes) {
                prop_assert!(view.payload.len() + RTP_HEADER_LEN <= bytes.len());
                prop_assert!(view.payload_type < 128);
            }
        }

        #[test]
        fn any_sent_packet_parses_back(
            ssrc in any::<u32>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(),
            marker in any::<bool>(), payload in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut tx = RtpSender::new(ssrc, pt, seq, ts);
            let pkt = tx.packet(&payload, marker, 160).to_vec();
            // A marker with PT 64..=95 collides with RTCP and is rejected by design.
            if marker && (64..=95).contains(&pt) {
                prop_assert_eq!(parse_rtp(&pkt), None);
            } else {
                let view = parse_rtp(&pkt).expect("parses");
                prop_assert_eq!(view, RtpView {
                    payload_type: pt, marker, sequence: seq, timestamp: ts, ssrc, payload: &payload,
                });
            }
        }
    }
}
