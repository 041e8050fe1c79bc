//! ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8).
//!
//! Encoding follows the Sun/ITU reference algorithms on 16-bit linear samples. Decoding goes
//! through two 256-entry tables computed at compile time, so a decode is one indexed load.
//! Every byte value is a valid code word: decoding network payloads can never fail or panic.

/// Bias added to the magnitude before µ-law segment search (reference `BIAS`).
const ULAW_BIAS: i32 = 0x84;
/// Upper end (inclusive) of each of the eight G.711 segments on the biased magnitude.
const SEG_END: [i32; 8] = [0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF];

/// µ-law code word → linear sample, for every byte.
static ULAW_TABLE: [i16; 256] = build_ulaw_table();
/// A-law code word → linear sample, for every byte.
static ALAW_TABLE: [i16; 256] = build_alaw_table();

const fn ulaw_decode_slow(b: u8) -> i16 {
    let u = !b;
    let mut t = (((u & 0x0F) as i32) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_decode_slow(b: u8) -> i16 {
    let a = b ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decode_slow(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decode_slow(i as u8);
        i += 1;
    }
    table
}

/// Index of the first segment whose end is at least `v` (8 when `v` is beyond the last one):
/// segment `k` ends at `2^(k+8) - 1`, so it is the bit length of `v` past 8, found with one
/// instruction rather than a search (this runs for every sample the server sends).
#[inline]
fn segment(v: i32) -> u8 {
    let bits = 32 - (v.max(0) as u32).leading_zeros();
    bits.saturating_sub(8).min(SEG_END.len() as u32) as u8
}

/// Decodes one µ-law code word to a 16-bit linear sample (0xFF → 0, 0x00 → -32124).
pub fn ulaw_to_linear(b: u8) -> i16 {
    ULAW_TABLE[b as usize]
}

/// Encodes a 16-bit linear sample as a µ-law code word (Sun reference algorithm).
#[inline]
pub fn linear_to_ulaw(s: i16) -> u8 {
    let (magnitude, mask) = if s < 0 {
        (ULAW_BIAS - s as i32, 0x7F)
    } else {
        (s as i32 + ULAW_BIAS, 0xFF)
    };
    let seg = segment(magnitude);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let uval = (seg << 4) | ((magnitude >> (seg + 3)) & 0x0F) as u8;
    uval ^ mask
}

/// Decodes one A-law code word to a 16-bit linear sample (0xD5 → 8, 0x55 → -8).
pub fn alaw_to_linear(b: u8) -> i16 {
    ALAW_TABLE[b as usize]
}

/// Encodes a 16-bit linear sample as an A-law code word (Sun reference algorithm; negative
/// values use the one's complement magnitude so that -1 maps to the smallest negative step).
#[inline]
pub fn linear_to_alaw(s: i16) -> u8 {
    let (magnitude, mask) = if s >= 0 {
        (s as i32, 0xD5u8)
    } else {
        (-(s as i32) - 1, 0x55u8)
    };
    let seg = segment(magnitude);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 4 } else { seg + 3 };
    let aval = (seg << 4) | ((magnitude >> shift) & 0x0F) as u8;
    aval ^ mask
}

/// A G.711 variant negotiated for a call leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// µ-law, static RTP payload type 0.
    Pcmu,
    /// A-law, static RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type of this codec (RFC 3551): 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec for a static RTP payload type, if it is one of ours.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Encodes `min(pcm.len(), out.len())` samples into `out`, one byte per sample.
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) {
        // One loop per codec, so each encoder is inlined (not called through a pointer for
        // every sample: this runs for every packet the server sends).
        match self {
            Codec::Pcmu => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &s)| *o = linear_to_ulaw(s)),
            Codec::Pcma => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &s)| *o = linear_to_alaw(s)),
        }
    }

    /// Decodes `min(payload.len(), out.len())` bytes into `out` and returns that count.
    pub fn decode(self, payload: &[u8], out: &mut [i16]) -> usize {
        let table = match self {
            Codec::Pcmu => &ULAW_TABLE,
            Codec::Pcma => &ALAW_TABLE,
        };
        let n = payload.len().min(out.len());
        for (o, &b) in out[..n].iter_mut().zip(&payload[..n]) {
            *o = table[b as usize];
        }
        n
    }

    /// The code word for (near) silence: 0xFF for µ-law, 0xD5 for A-law.
    pub fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_segment_is_the_reference_search_for_every_magnitude() {
        let search = |v: i32| SEG_END.iter().position(|&end| v <= end).unwrap_or(8) as u8;
        for v in -10..=0x1_0100 {
            assert_eq!(segment(v), search(v), "magnitude {v}");
        }
    }

    #[test]
    fn ulaw_known_code_words_decode_to_reference_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0x7E), -8);
    }

    #[test]
    fn alaw_known_code_words_decode_to_reference_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn zero_encodes_to_the_silence_code_word() {
        assert_eq!(linear_to_ulaw(0), Codec::Pcmu.silence());
        assert_eq!(linear_to_alaw(0), Codec::Pcma.silence());
        assert_eq!(ulaw_to_linear(Codec::Pcmu.silence()), 0);
        assert_eq!(alaw_to_linear(Codec::Pcma.silence()), 8);
    }

    #[test]
    fn extreme_samples_saturate_instead_of_wrapping() {
        assert_eq!(ulaw_to_linear(linear_to_ulaw(i16::MAX)), 32124);
        assert_eq!(ulaw_to_linear(linear_to_ulaw(i16::MIN)), -32124);
        assert_eq!(alaw_to_linear(linear_to_alaw(i16::MAX)), 32256);
        assert_eq!(alaw_to_linear(linear_to_alaw(i16::MIN)), -32256);
    }

    /// Quantisation error of G.711 is at most half a step; steps double per segment, so the
    /// error stays below about 1/32 of the magnitude (plus a small floor, and the clip region).
    fn assert_round_trip_bounded(enc: fn(i16) -> u8, dec: fn(u8) -> i16, clip: i32) {
        for s in i16::MIN..=i16::MAX {
            let s32 = s as i32;
            let back = dec(enc(s)) as i32;
            let bound = (s32.abs() / 16).max(16) + (s32.abs() - clip).max(0);
            assert!(
                (back - s32).abs() <= bound,
                "sample {s} came back as {back} (bound {bound})"
            );
        }
    }

    #[test]
    fn ulaw_round_trip_error_is_within_half_a_quantisation_step() {
        assert_round_trip_bounded(linear_to_ulaw, ulaw_to_linear, 32124);
    }

    #[test]
    fn alaw_round_trip_error_is_within_half_a_quantisation_step() {
        assert_round_trip_bounded(linear_to_alaw, alaw_to_linear, 32256);
    }

    #[test]
    fn companding_is_monotonic_over_the_whole_range() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut prev = i16::MIN;
            for s in i16::MIN..=i16::MAX {
                let mut byte = [0u8];
                codec.encode(&[s], &mut byte);
                let mut back = [0i16];
                codec.decode(&byte, &mut back);
                assert!(
                    back[0] >= prev,
                    "{codec:?}: {s} decoded below its predecessor"
                );
                prev = back[0];
            }
        }
    }

    #[test]
    fn every_code_word_survives_decode_then_encode() {
        for b in 0..=255u8 {
            assert_eq!(
                ulaw_to_linear(linear_to_ulaw(ulaw_to_linear(b))),
                ulaw_to_linear(b)
            );
            assert_eq!(
                linear_to_alaw(alaw_to_linear(b)),
                b,
                "A-law code word {b:#04x}"
            );
        }
    }

    #[test]
    fn payload_types_map_both_ways() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
        }
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_payload_type(101), None);
    }

    #[test]
    fn encode_and_decode_stop_at_the_shorter_buffer() {
        let pcm = [1000i16; 10];
        let mut out = [0u8; 4];
        Codec::Pcmu.encode(&pcm, &mut out);
        assert!(out.iter().all(|&b| b == linear_to_ulaw(1000)));
        let mut short = [0u8; 20];
        Codec::Pcma.encode(&pcm, &mut short);
        assert_eq!(short[10], 0, "bytes beyond the input are left untouched");

        let mut samples = [0i16; 3];
        assert_eq!(Codec::Pcmu.decode(&[0xFF; 8], &mut samples), 3);
        let mut many = [7i16; 8];
        assert_eq!(Codec::Pcma.decode(&[0xD5; 2], &mut many), 2);
        assert_eq!(many, [8, 8, 7, 7, 7, 7, 7, 7]);
        assert_eq!(Codec::Pcmu.decode(&[], &mut many), 0);
    }
}
