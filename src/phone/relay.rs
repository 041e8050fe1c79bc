//! The gateway's SIP-side media, pure: browser PCMU frames become RTP packets to the line, the
//! browser's keys become RFC 4733 telephone-event packets, and the line's RTP becomes PCMU
//! frames for the browser. No sockets here; the gateway task sends what this builds.

use crate::media::{parse_rtp, rfc4733_payload, Codec, RtpSender};
use crate::sip::Negotiated;
use std::net::SocketAddr;

/// Largest frame handled (60 ms of G.711): the browser's limit in `MediaPeer::send_pcmu`.
pub const MAX_FRAME: usize = 480;
/// How long each key press lasts on the line, in 8 kHz timestamp units (100 ms).
pub const DIGIT_SAMPLES: u16 = 800;
/// RFC 4733 volume of our key presses, in -dBm0.
const DIGIT_VOLUME: u8 = 10;
/// RFC 4733 §2.5.1.4: the end packet is sent three times.
const END_PACKETS: usize = 3;

/// The RTP stream to and from the line for one web call.
#[derive(Debug)]
pub struct LineMedia {
    sender: RtpSender,
    remote: SocketAddr,
    codec: Codec,
    dtmf_pt: Option<u8>,
    talkspurt: bool,
}

impl LineMedia {
    /// What the line's answer agreed (`n`), with our stream's random SSRC, first sequence
    /// number and timestamp.
    pub fn new(n: &Negotiated, ssrc: u32, seq: u16, ts: u32) -> LineMedia {
        let codec = Codec::from_payload_type(n.codec_pt).unwrap_or(Codec::Pcmu);
        LineMedia {
            sender: RtpSender::new(ssrc, codec.payload_type(), seq, ts),
            remote: n.remote_addr,
            codec,
            dtmf_pt: n.dtmf_pt,
            talkspurt: true,
        }
    }

    /// Where the line wants our RTP.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// Whether keys can be sent (the line answered with a telephone-event payload type).
    pub fn has_keys(&self) -> bool {
        self.dtmf_pt.is_some()
    }

    /// One browser PCMU frame as the next RTP packet to the line (transcoded to PCMA if the
    /// line chose it; frames over [`MAX_FRAME`] are cut). The slice lives until the next call.
    pub fn audio_packet(&mut self, pcmu: &[u8]) -> &[u8] {
        let n = pcmu.len().min(MAX_FRAME);
        let marker = std::mem::take(&mut self.talkspurt);
        match self.codec {
            Codec::Pcmu => self.sender.packet(&pcmu[..n], marker, n as u32),
            Codec::Pcma => {
                let mut pcm = [0i16; MAX_FRAME];
                let got = Codec::Pcmu.decode(&pcmu[..n], &mut pcm);
                let mut out = [0u8; MAX_FRAME];
                Codec::Pcma.encode(&pcm[..got], &mut out[..got]);
                self.sender.packet(&out[..got], marker, got as u32)
            }
        }
    }

    /// The RFC 4733 packets for one key press: a start packet (marker bit) and three end
    /// packets (E bit, full duration), all with the event's start timestamp; the stream's
    /// timestamp then moves past the event. Empty when the line takes no telephone events or
    /// `digit` is not a DTMF key.
    pub fn digit_packets(&mut self, digit: char) -> Vec<Vec<u8>> {
        let Some(pt) = self.dtmf_pt else {
            return Vec::new();
        };
        let (Some(start), Some(end)) = (
            rfc4733_payload(digit, false, DIGIT_VOLUME, 160),
            rfc4733_payload(digit, true, DIGIT_VOLUME, DIGIT_SAMPLES),
        ) else {
            return Vec::new();
        };
        let mut out = vec![self.sender.event_packet(pt, &start, true).to_vec()];
        for _ in 0..END_PACKETS {
            out.push(self.sender.event_packet(pt, &end, false).to_vec());
        }
        self.sender.advance_timestamp(u32::from(DIGIT_SAMPLES));
        self.talkspurt = true;
        out
    }

    /// A datagram from the line: its audio as PCMU for the browser, written into `out`;
    /// the number of bytes, or `None` for anything that is not the agreed audio (RTCP,
    /// telephone events, garbage).
    pub fn from_line(&self, datagram: &[u8], out: &mut [u8; MAX_FRAME]) -> Option<usize> {
        let p = parse_rtp(datagram)?;
        if p.payload_type != self.codec.payload_type() || p.payload.is_empty() {
            return None;
        }
        let n = p.payload.len().min(MAX_FRAME);
        match self.codec {
            Codec::Pcmu => out[..n].copy_from_slice(&p.payload[..n]),
            Codec::Pcma => {
                let mut pcm = [0i16; MAX_FRAME];
                let got = Codec::Pcma.decode(&p.payload[..n], &mut pcm);
                Codec::Pcmu.encode(&pcm[..got], &mut out[..got]);
            }
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Rfc4733Receiver;
    use crate::sip::Direction;

    fn negotiated(codec_pt: u8, dtmf_pt: Option<u8>) -> Negotiated {
        Negotiated {
            codec_pt,
            dtmf_pt,
            remote_addr: "127.0.0.1:20000".parse().unwrap(),
            direction: Direction::SendRecv,
            ptime: None,
        }
    }

    #[test]
    fn a_key_press_is_one_start_and_three_end_packets_on_one_timestamp() {
        let mut m = LineMedia::new(&negotiated(0, Some(101)), 0x1234_5678, 100, 8000);
        let _ = m.audio_packet(&[0xFF; 160]);
        let pkts = m.digit_packets('1');
        assert_eq!(pkts.len(), 4);
        let views: Vec<_> = pkts.iter().map(|p| parse_rtp(p).unwrap()).collect();
        assert!(views.iter().all(|v| v.payload_type == 101));
        assert!(
            views.iter().all(|v| v.timestamp == 8160),
            "one event, one timestamp"
        );
        assert!(views[0].marker && !views[1].marker);
        let seqs: Vec<u16> = views.iter().map(|v| v.sequence).collect();
        assert_eq!(seqs, vec![101, 102, 103, 104]);
        assert_eq!(views[0].payload, &[1, DIGIT_VOLUME, 0, 160]);
        for v in &views[1..] {
            assert_eq!(v.payload[0], 1, "event 1");
            assert_eq!(v.payload[1] & 0x80, 0x80, "E bit");
            assert_eq!(
                u16::from_be_bytes([v.payload[2], v.payload[3]]),
                DIGIT_SAMPLES
            );
        }
        // The server's own receiver reads exactly one key from them.
        let mut rx = Rfc4733Receiver::new();
        let keys: Vec<char> = views
            .iter()
            .filter_map(|v| rx.on_packet(v.timestamp, v.payload))
            .collect();
        assert_eq!(keys, vec!['1']);
        // Audio after the key goes on past the event, as a new talkspurt.
        let after = parse_rtp(m.audio_packet(&[0xFF; 160]))
            .unwrap()
            .to_owned_fields();
        assert_eq!(after, (0, true, 105, 8160 + u32::from(DIGIT_SAMPLES)));
    }

    #[test]
    fn star_and_pound_are_events_10_and_11_and_letters_outside_dtmf_send_nothing() {
        let mut m = LineMedia::new(&negotiated(0, Some(101)), 1, 1, 1);
        assert_eq!(parse_rtp(&m.digit_packets('*')[0]).unwrap().payload[0], 10);
        assert_eq!(parse_rtp(&m.digit_packets('#')[0]).unwrap().payload[0], 11);
        assert!(m.digit_packets('x').is_empty());
        let mut no_keys = LineMedia::new(&negotiated(0, None), 1, 1, 1);
        assert!(!no_keys.has_keys());
        assert!(no_keys.digit_packets('1').is_empty());
    }

    #[test]
    fn audio_is_relayed_unchanged_as_pcmu_with_rtp_numbering() {
        let mut m = LineMedia::new(&negotiated(0, Some(101)), 7, 65535, 0);
        let frame: Vec<u8> = (0..160).map(|i| i as u8).collect();
        let first = parse_rtp(m.audio_packet(&frame)).unwrap().to_owned_fields();
        assert_eq!(first, (0, true, 65535, 0));
        let pkt = m.audio_packet(&frame).to_vec();
        let v = parse_rtp(&pkt).unwrap();
        assert_eq!((v.sequence, v.timestamp, v.marker), (0, 160, false));
        assert_eq!(v.payload, &frame[..]);
        let mut out = [0u8; MAX_FRAME];
        assert_eq!(m.from_line(&pkt, &mut out), Some(160));
        assert_eq!(&out[..160], &frame[..]);
    }

    #[test]
    fn a_pcma_line_is_transcoded_both_ways_and_events_from_the_line_are_not_audio() {
        let mut m = LineMedia::new(&negotiated(8, Some(101)), 7, 1, 0);
        let loud = [crate::media::linear_to_ulaw(8000); 160];
        let pkt = m.audio_packet(&loud).to_vec();
        let v = parse_rtp(&pkt).unwrap();
        assert_eq!(v.payload_type, 8);
        let through_ulaw = crate::media::ulaw_to_linear(loud[0]);
        assert_eq!(v.payload[0], crate::media::linear_to_alaw(through_ulaw));
        let mut out = [0u8; MAX_FRAME];
        assert_eq!(m.from_line(&pkt, &mut out), Some(160));
        let back = crate::media::ulaw_to_linear(out[0]);
        assert!((back - 8000).abs() < 300, "{back}");
        let ev = m.digit_packets('5');
        assert_eq!(m.from_line(&ev[0], &mut out), None);
        assert_eq!(m.from_line(b"garbage", &mut out), None);
    }

    trait Fields {
        fn to_owned_fields(&self) -> (u8, bool, u16, u32);
    }

    impl Fields for crate::media::RtpView<'_> {
        fn to_owned_fields(&self) -> (u8, bool, u16, u32) {
            (
                self.payload_type,
                self.marker,
                self.sequence,
                self.timestamp,
            )
        }
    }
}
