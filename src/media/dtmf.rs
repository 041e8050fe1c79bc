//! DTMF digits in both forms a caller can send them: RFC 4733 telephone-event packets and
//! in-band tones inside the G.711 audio.
//!
//! [`Rfc4733Receiver`] turns the stream of event packets (each key press is one event, sent
//! as many packets sharing one RTP timestamp, the end packet three times) into one digit per
//! key press. [`InbandDetector`] finds the tone pairs in decoded 8 kHz PCM with the Goertzel
//! algorithm on a sliding 12.5 ms window, and reports a digit once per key press.

/// The sixteen DTMF keys in RFC 4733 event order: events 0–9, `*`, `#`, `A`–`D`.
const EVENT_DIGITS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/// The digit of an RFC 4733 event code, for the sixteen DTMF events.
fn event_digit(event: u8) -> Option<char> {
    EVENT_DIGITS.get(usize::from(event)).copied()
}

/// The RFC 4733 event code of a DTMF key (`a`–`d` accepted in lower case).
fn digit_event(digit: char) -> Option<u8> {
    let upper = digit.to_ascii_uppercase();
    EVENT_DIGITS
        .iter()
        .position(|&d| d == upper)
        .and_then(|i| u8::try_from(i).ok())
}

/// Builds the 4-byte RFC 4733 payload for a DTMF key: event code, end bit, volume (in -dBm0,
/// clamped to 0..=63) and duration in timestamp units. `None` for a character that is not a
/// DTMF key.
pub fn rfc4733_payload(digit: char, end: bool, volume: u8, duration: u16) -> Option<[u8; 4]> {
    let event = digit_event(digit)?;
    let [d0, d1] = duration.to_be_bytes();
    Some([event, (u8::from(end) << 7) | volume.min(63), d0, d1])
}

/// RTP timestamps up to this far behind the last reported event (10 s at 8 kHz) are stale
/// packets of an event already reported; further back is taken as a new stream.
const STALE_EVENT_WINDOW: u32 = 80_000;

/// Turns received RFC 4733 telephone-event packets into digits, one per key press.
#[derive(Debug, Clone, Default)]
pub struct Rfc4733Receiver {
    last_event_ts: Option<u32>,
}

impl Rfc4733Receiver {
    /// A receiver that has seen no event yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the RTP timestamp and payload of one telephone-event packet. Returns the digit
    /// for the first packet of a new event (a new timestamp), and `None` for continuation
    /// packets, the retransmitted end packets, late packets of earlier events, payloads
    /// shorter than 4 bytes and events other than the sixteen DTMF keys.
    pub fn on_packet(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<char> {
        if payload.len() < 4 {
            return None;
        }
        let digit = event_digit(payload[0])?;
        if let Some(last) = self.last_event_ts {
            if last.wrapping_sub(rtp_timestamp) < STALE_EVENT_WINDOW {
                return None;
            }
        }
        self.last_event_ts = Some(rtp_timestamp);
        Some(digit)
    }

    /// Forgets the last event (a new RTP stream whose timestamps start afresh).
    pub fn reset(&mut self) {
        self.last_event_ts = None;
    }
}

/// Sample rate of the PCM the detector analyses.
const SAMPLE_RATE: f32 = 8000.0;
/// Analysis window: 12.5 ms, long enough to separate neighbouring DTMF rows (73 Hz apart).
const WINDOW: usize = 100;
/// The window slides by 2.5 ms, which sets the time resolution of tone durations.
const HOP: usize = 20;
/// Row (low group) frequencies in Hz.
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high group) frequencies in Hz.
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// Keypad layout: `KEYPAD[row][col]`.
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// The strongest row (column) must carry this many times the power of any other row (column).
const DOMINANCE: f32 = 6.0;
/// Largest power ratio between the row and the column tone (8 dB twist either way).
const MAX_TWIST: f32 = 6.31;
/// Share of the window's energy the two tones must carry (speech and noise spread theirs).
const MIN_TONE_SHARE: f32 = 0.65;
/// Weakest accepted tone amplitude (about -36 dBFS per tone).
const MIN_TONE_AMPLITUDE: f32 = 500.0;
/// The quieter half of the window must hold at least this share of the louder half's energy,
/// so that a window counts only when the tone fills at least ~3/4 of it.
const MIN_HALF_BALANCE: f32 = 0.5;
/// Consecutive tone windows before a digit is reported. A tone of length L is seen in about
/// (L - 5 ms) / 2.5 ms windows: 40 ms gives 13–14, 30 ms gives 9–10.
const ON_HOPS: u32 = 12;
/// Consecutive non-tone windows before the next digit may be reported. A gap of length G is
/// seen in about (G + 5 ms) / 2.5 ms windows: 40 ms gives 18, 60 ms gives 26, 25 ms gives 12.
const OFF_HOPS: u32 = 16;
/// Digits detected but not yet returned (several key presses inside one long `push`).
const QUEUE: usize = 8;

/// Finds DTMF tones in 8 kHz PCM and reports each key press once.
///
/// A digit is reported when its tone pair has been steadily present for about 40 ms; the
/// next digit only after at least about 35 ms without a tone. A window counts as a tone when
/// one row and one column frequency clearly dominate their groups, the pair carries most of
/// the window's energy, the twist is within ±8 dB and the tone fills the window. This rejects
/// silence, noise, single sines and voiced speech.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    ring: [i16; WINDOW],
    pos: usize,
    filled: usize,
    since_hop: usize,
    row_coeffs: [f32; 4],
    col_coeffs: [f32; 4],
    candidate: Option<char>,
    run: u32,
    gap: u32,
    armed: bool,
    queue: [char; QUEUE],
    queue_head: usize,
    queue_len: usize,
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InbandDetector {
    /// A detector with an empty history, ready to report the first digit.
    pub fn new() -> Self {
        let coeff = |f: f32| 2.0 * (2.0 * std::f32::consts::PI * f / SAMPLE_RATE).cos();
        InbandDetector {
            ring: [0; WINDOW],
            pos: 0,
            filled: 0,
            since_hop: 0,
            row_coeffs: ROWS.map(coeff),
            col_coeffs: COLS.map(coeff),
            candidate: None,
            run: 0,
            gap: OFF_HOPS,
            armed: true,
            queue: ['\0'; QUEUE],
            queue_head: 0,
            queue_len: 0,
        }
    }

    /// Feeds PCM samples of any length (normally one 20 ms frame of 160 samples). Returns a
    /// digit when a key press completed its minimum duration; if several did within one call,
    /// the others are returned by the following calls (an empty slice is fine for that).
    pub fn push(&mut self, pcm: &[i16]) -> Option<char> {
        for &s in pcm {
            self.ring[self.pos] = s;
            self.pos = (self.pos + 1) % WINDOW;
            self.filled = (self.filled + 1).min(WINDOW);
            self.since_hop += 1;
            if self.since_hop >= HOP && self.filled == WINDOW {
                self.since_hop = 0;
                let seen = self.analyse_window();
                self.step(seen);
            }
        }
        self.dequeue()
    }

    /// Advances the press/release state machine by one window.
    fn step(&mut self, seen: Option<char>) {
        match seen {
            Some(d) => {
                self.gap = 0;
                if self.candidate == Some(d) {
                    self.run = self.run.saturating_add(1);
                } else {
                    self.candidate = Some(d);
                    self.run = 1;
                }
                if self.armed && self.run >= ON_HOPS {
                    self.armed = false;
                    self.enqueue(d);
                }
            }
            None => {
                self.candidate = None;
                self.run = 0;
                self.gap = self.gap.saturating_add(1);
                if self.gap >= OFF_HOPS {
                    self.armed = true;
                }
            }
        }
    }

    /// Classifies the current window: the key whose tone pair fills it, if any.
    fn analyse_window(&self) -> Option<char> {
        let mut x = [0f32; WINDOW];
        for (i, v) in x.iter_mut().enumerate() {
            *v = f32::from(self.ring[(self.pos + i) % WINDOW]);
        }
        let (first, second) = x.split_at(WINDOW / 2);
        let e1: f32 = first.iter().map(|v| v * v).sum();
        let e2: f32 = second.iter().map(|v| v * v).sum();
        let energy = e1 + e2;
        if energy <= 0.0 || e1.min(e2) < MIN_HALF_BALANCE * e1.max(e2) {
            return None;
        }
        let (row, row_power) = dominant(&x, &self.row_coeffs)?;
        let (col, col_power) = dominant(&x, &self.col_coeffs)?;
        // A sine of amplitude A over N samples gives a Goertzel power of about (A N / 2)^2.
        let min_power = (MIN_TONE_AMPLITUDE * WINDOW as f32 / 2.0).powi(2);
        if row_power < min_power || col_power < min_power {
            return None;
        }
        if row_power > MAX_TWIST * col_power || col_power > MAX_TWIST * row_power {
            return None;
        }
        // ... and a window energy (sum of squares) of N A^2 / 2, i.e. 2 P / N.
        let tone_energy = 2.0 * (row_power + col_power) / WINDOW as f32;
        if tone_energy < MIN_TONE_SHARE * energy {
            return None;
        }
        Some(KEYPAD[row][col])
    }

    fn enqueue(&mut self, d: char) {
        if self.queue_len < QUEUE {
            self.queue[(self.queue_head + self.queue_len) % QUEUE] = d;
            self.queue_len += 1;
        }
    }

    fn dequeue(&mut self) -> Option<char> {
        if self.queue_len == 0 {
            return None;
        }
        let d = self.queue[self.queue_head];
        self.queue_head = (self.queue_head + 1) % QUEUE;
        self.queue_len -= 1;
        Some(d)
    }
}

/// Goertzel power of `x` at the frequency whose coefficient is `coeff` (2 cos ω).
fn goertzel(x: &[f32], coeff: f32) -> f32 {
    let (mut s1, mut s2) = (0f32, 0f32);
    for &v in x {
        let s = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0)
}

/// The index and power of the strongest of four frequencies, if it dominates the other three.
fn dominant(x: &[f32], coeffs: &[f32; 4]) -> Option<(usize, f32)> {
    let powers = coeffs.map(|c| goertzel(x, c));
    let mut best = 0;
    for i in 1..4 {
        if powers[i] > powers[best] {
            best = i;
        }
    }
    let best_power = powers[best];
    let dominates = powers
        .iter()
        .enumerate()
        .all(|(i, &p)| i == best || p * DOMINANCE <= best_power);
    dominates.then_some((best, best_power))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711::Codec;
    use std::f32::consts::PI;

    fn key_freqs(digit: char) -> (f32, f32) {
        for (r, keys) in KEYPAD.iter().enumerate() {
            if let Some(c) = keys.iter().position(|&k| k == digit) {
                return (ROWS[r], COLS[c]);
            }
        }
        panic!("not a DTMF key: {digit}");
    }

    fn sines(freqs: &[(f32, f32)], ms: u32) -> Vec<i16> {
        (0..ms * 8)
            .map(|n| {
                let t = n as f32 / SAMPLE_RATE;
                let v: f32 = freqs
                    .iter()
                    .map(|&(f, a)| a * (2.0 * PI * f * t).sin())
                    .sum();
                v.clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    fn dtmf(digit: char, ms: u32) -> Vec<i16> {
        let (r, c) = key_freqs(digit);
        sines(&[(r, 8000.0), (c, 8000.0)], ms)
    }

    fn silence(ms: u32) -> Vec<i16> {
        vec![0; (ms * 8) as usize]
    }

    /// Deterministic uniform noise in [-amplitude, amplitude].
    fn noise(ms: u32, amplitude: i32, seed: u32) -> Vec<i16> {
        let mut state = seed;
        (0..ms * 8)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = (state >> 16) as i32 % (2 * amplitude + 1);
                (u - amplitude) as i16
            })
            .collect()
    }

    /// Feeds `signal` in chunks of `chunk` samples and collects every reported digit.
    fn detect_chunked(signal: &[i16], chunk: usize) -> String {
        let mut det = InbandDetector::new();
        let mut out = String::new();
        for frame in signal.chunks(chunk) {
            out.extend(det.push(frame));
        }
        while let Some(d) = det.push(&[]) {
            out.push(d);
        }
        out
    }

    fn detect(signal: &[i16]) -> String {
        detect_chunked(signal, 160)
    }

    fn concat(parts: &[Vec<i16>]) -> Vec<i16> {
        parts.concat()
    }

    #[test]
    fn rfc4733_event_reported_once_despite_retransmitted_end_packets() {
        let mut rx = Rfc4733Receiver::new();
        let start = rfc4733_payload('5', false, 10, 160).expect("5 is a key");
        let more = rfc4733_payload('5', false, 10, 320).expect("5 is a key");
        let end = rfc4733_payload('5', true, 10, 480).expect("5 is a key");
        assert_eq!(rx.on_packet(8000, &start), Some('5'));
        assert_eq!(rx.on_packet(8000, &more), None);
        for _ in 0..3 {
            assert_eq!(rx.on_packet(8000, &end), None);
        }
    }

    #[test]
    fn rfc4733_same_digit_twice_is_two_events() {
        let mut rx = Rfc4733Receiver::new();
        let p = rfc4733_payload('1', false, 10, 160).expect("key");
        assert_eq!(rx.on_packet(1000, &p), Some('1'));
        assert_eq!(rx.on_packet(3000, &p), Some('1'));
    }

    #[test]
    fn rfc4733_event_whose_start_was_lost_is_reported_from_its_end_packet() {
        let mut rx = Rfc4733Receiver::new();
        let end = rfc4733_payload('#', true, 10, 800).expect("key");
        assert_eq!(rx.on_packet(500, &end), Some('#'));
        assert_eq!(rx.on_packet(500, &end), None);
    }

    #[test]
    fn rfc4733_late_packet_of_an_earlier_event_is_not_reported_again() {
        let mut rx = Rfc4733Receiver::new();
        let one = rfc4733_payload('1', true, 10, 800).expect("key");
        let two = rfc4733_payload('2', false, 10, 160).expect("key");
        assert_eq!(rx.on_packet(1000, &one), Some('1'));
        assert_eq!(rx.on_packet(3000, &two), Some('2'));
        assert_eq!(rx.on_packet(1000, &one), None);
    }

    #[test]
    fn rfc4733_timestamps_wrapping_past_zero_still_give_new_events() {
        let mut rx = Rfc4733Receiver::new();
        let p = rfc4733_payload('9', false, 10, 160).expect("key");
        assert_eq!(rx.on_packet(u32::MAX - 100, &p), Some('9'));
        assert_eq!(rx.on_packet(1500, &p), Some('9'));
        rx.reset();
        assert_eq!(rx.on_packet(1500, &p), Some('9'));
    }

    #[test]
    fn rfc4733_all_sixteen_events_map_to_their_keys() {
        let mut rx = Rfc4733Receiver::new();
        let got: String = (0u8..16)
            .filter_map(|e| rx.on_packet(u32::from(e) * 1000, &[e, 0x0A, 0, 160]))
            .collect();
        assert_eq!(got, "0123456789*#ABCD");
    }

    #[test]
    fn rfc4733_short_payloads_and_other_events_are_ignored() {
        let mut rx = Rfc4733Receiver::new();
        assert_eq!(rx.on_packet(0, &[]), None);
        assert_eq!(rx.on_packet(0, &[1, 0, 0]), None);
        assert_eq!(rx.on_packet(0, &[16, 0, 0, 160]), None, "flash");
        assert_eq!(rx.on_packet(0, &[255, 0, 0, 160]), None);
        assert_eq!(
            rx.on_packet(0, &[1, 0, 0, 160]),
            Some('1'),
            "ignored ones leave no trace"
        );
    }

    #[test]
    fn rfc4733_payload_encodes_fields_and_rejects_non_keys() {
        assert_eq!(
            rfc4733_payload('*', true, 10, 0x0320),
            Some([10, 0x8A, 0x03, 0x20])
        );
        assert_eq!(rfc4733_payload('d', false, 200, 1), Some([15, 63, 0, 1]));
        assert_eq!(rfc4733_payload('x', false, 10, 1), None);
        assert_eq!(rfc4733_payload('E', false, 10, 1), None);
    }

    #[test]
    fn all_sixteen_inband_digits_are_detected_in_order() {
        let keys = "123A456B789C*0#D";
        let mut signal = Vec::new();
        for k in keys.chars() {
            signal.extend(dtmf(k, 80));
            signal.extend(silence(80));
        }
        assert_eq!(detect(&signal), keys);
    }

    #[test]
    fn inband_digit_survives_ulaw_and_alaw_coding() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for key in ['1', '5', '9', '#', 'D'] {
                let pcm = concat(&[silence(40), dtmf(key, 100), silence(60)]);
                let mut coded = vec![0u8; pcm.len()];
                codec.encode(&pcm, &mut coded);
                let mut back = vec![0i16; pcm.len()];
                codec.decode(&coded, &mut back);
                assert_eq!(detect(&back), key.to_string(), "{codec:?} {key}");
            }
        }
    }

    #[test]
    fn quiet_tones_with_6db_twist_either_way_are_detected() {
        for (row_amp, col_amp) in [(1500.0, 750.0), (750.0, 1500.0), (20000.0, 10000.0)] {
            let (r, c) = key_freqs('6');
            let signal = concat(&[sines(&[(r, row_amp), (c, col_amp)], 45), silence(60)]);
            assert_eq!(detect(&signal), "6", "row {row_amp}, column {col_amp}");
        }
    }

    #[test]
    fn a_40ms_tone_survives_ulaw_at_any_alignment() {
        for offset in (0..160).step_by(11) {
            let mut pcm = vec![0i16; offset];
            pcm.extend(dtmf('1', 40));
            pcm.extend(silence(60));
            let mut coded = vec![0u8; pcm.len()];
            Codec::Pcmu.encode(&pcm, &mut coded);
            Codec::Pcmu.decode(&coded, &mut pcm);
            assert_eq!(detect(&pcm), "1", "tone starting at sample {offset}");
        }
    }

    #[test]
    fn a_short_dropout_inside_a_tone_does_not_repeat_the_digit() {
        let signal = concat(&[dtmf('2', 100), silence(20), dtmf('2', 100), silence(60)]);
        assert_eq!(detect(&signal), "2");
    }

    #[test]
    fn a_200ms_tone_is_reported_exactly_once() {
        assert_eq!(
            detect(&concat(&[silence(20), dtmf('7', 200), silence(100)])),
            "7"
        );
    }

    #[test]
    fn two_tones_60ms_apart_are_two_digits() {
        let signal = concat(&[dtmf('3', 80), silence(60), dtmf('3', 80), silence(60)]);
        assert_eq!(detect(&signal), "33");
    }

    #[test]
    fn a_40ms_tone_is_detected_at_any_alignment() {
        for offset in (0..160).step_by(7) {
            let mut signal = vec![0i16; offset];
            signal.extend(dtmf('0', 40));
            signal.extend(silence(60));
            assert_eq!(detect(&signal), "0", "tone starting at sample {offset}");
        }
    }

    #[test]
    fn a_30ms_blip_is_not_a_digit_at_any_alignment() {
        for offset in (0..160).step_by(7) {
            let mut signal = vec![0i16; offset];
            signal.extend(dtmf('0', 30));
            signal.extend(silence(60));
            assert_eq!(detect(&signal), "", "blip starting at sample {offset}");
        }
    }

    #[test]
    fn detection_does_not_depend_on_how_the_audio_is_chunked() {
        let signal = concat(&[dtmf('4', 60), silence(60), dtmf('2', 60), silence(60)]);
        for chunk in [1, 37, 160, 333, 5000] {
            assert_eq!(detect_chunked(&signal, chunk), "42", "chunks of {chunk}");
        }
    }

    #[test]
    fn a_tone_in_moderate_noise_is_still_detected() {
        let tone = dtmf('8', 100);
        let hiss = noise(100, 1000, 7);
        let signal: Vec<i16> = tone
            .iter()
            .zip(&hiss)
            .map(|(a, b)| a.saturating_add(*b))
            .collect();
        assert_eq!(detect(&concat(&[signal, silence(60)])), "8");
    }

    #[test]
    fn silence_noise_and_single_sines_are_not_digits() {
        assert_eq!(detect(&silence(1000)), "");
        assert_eq!(detect(&noise(2000, 12000, 1)), "");
        assert_eq!(detect(&noise(2000, 300, 2)), "");
        for f in [1000.0, 697.0, 1209.0, 440.0, 1633.0] {
            assert_eq!(detect(&sines(&[(f, 12000.0)], 500)), "", "sine at {f} Hz");
        }
    }

    #[test]
    fn speech_like_harmonics_are_not_digits() {
        for fundamental in [100.0, 120.0, 150.0, 210.0, 240.0] {
            let partials: Vec<(f32, f32)> = (1..=20)
                .map(|k| (fundamental * k as f32, 6000.0 / k as f32))
                .filter(|&(f, _)| f < 3800.0)
                .collect();
            assert_eq!(
                detect(&sines(&partials, 1000)),
                "",
                "harmonics of {fundamental} Hz"
            );
        }
    }

    #[test]
    fn a_pair_with_too_much_twist_is_rejected() {
        let signal = sines(&[(770.0, 12000.0), (1336.0, 1200.0)], 200);
        assert_eq!(detect(&signal), "");
    }
}
