//! A small fixed-delay jitter buffer: puts 20 ms audio frames back into RTP sequence order.
//!
//! Packets are pushed as they arrive and one frame is popped per 20 ms tick. Playout starts
//! once `depth` frames' worth of sequence numbers have arrived; after that, each tick plays the
//! next sequence number, or reports it lost (`None`, so the caller conceals with silence) when
//! later frames are already waiting. When the buffer runs dry it waits and refills rather than
//! racing ahead of the sender. All storage is allocated in [`JitterBuffer::new`].

/// Largest payload kept per frame: the 20 ms of G.711 one tick plays (the decoder takes no
/// more); longer payloads are truncated. 32 slots of it are 5 KB a call.
pub const MAX_FRAME_BYTES: usize = 160;
/// Slots in the ring; a power of two so that `seq % SLOTS` is continuous across wrap-around.
const SLOTS: usize = 32;
/// Largest accepted depth in packets.
const MAX_DEPTH: usize = 16;
/// A sequence number further than this from the playout point starts a new stream.
const MAX_JUMP: i32 = 100;

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Stored for playout.
    Accepted,
    /// Older than what was already played out: dropped.
    Late,
    /// The same sequence number is already waiting: dropped.
    Duplicate,
}

#[derive(Debug, Clone)]
struct Slot {
    seq: u16,
    full: bool,
    len: usize,
    data: [u8; MAX_FRAME_BYTES],
}

/// Reorders incoming audio frames by RTP sequence number and plays them out at a fixed delay.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    depth: usize,
    slots: Box<[Slot]>,
    /// Sequence number to play next; `None` before the first packet of a stream.
    next: Option<u16>,
    /// Highest sequence number received in this stream.
    highest: u16,
    /// Whether playout is running (`depth` frames arrived; false again after running dry).
    playing: bool,
    /// Whether any frame of this stream has been played (no more moving back after that).
    started: bool,
    lost: u64,
    late: u64,
}

/// Signed distance from `from` to `to` on the 16-bit sequence circle.
fn distance(from: u16, to: u16) -> i32 {
    i32::from(to.wrapping_sub(from) as i16)
}

impl JitterBuffer {
    /// A buffer delaying playout by `depth` packets (clamped to 1..=16; 3 is 60 ms).
    pub fn new(depth: usize) -> Self {
        let empty = Slot {
            seq: 0,
            full: false,
            len: 0,
            data: [0; MAX_FRAME_BYTES],
        };
        JitterBuffer {
            depth: depth.clamp(1, MAX_DEPTH),
            slots: vec![empty; SLOTS].into_boxed_slice(),
            next: None,
            highest: 0,
            playing: false,
            started: false,
            lost: 0,
            late: 0,
        }
    }

    /// Stores a received frame (payload truncated to [`MAX_FRAME_BYTES`]). A sequence number
    /// more than 100 away from the playout point (a new stream, e.g. after a re-INVITE)
    /// restarts the buffer instead of counting the gap as loss.
    pub fn push(&mut self, seq: u16, payload: &[u8]) -> Push {
        let Some(next) = self.next else {
            self.start_stream(seq);
            return self.store(seq, payload);
        };
        let d = distance(next, seq);
        if d.abs() > MAX_JUMP {
            self.clear();
            self.start_stream(seq);
            return self.store(seq, payload);
        }
        if d < 0 {
            if self.started || distance(seq, self.highest) >= SLOTS as i32 {
                self.late += 1;
                return Push::Late;
            }
            // Reordered before playout began: this one simply comes first.
            self.next = Some(seq);
        } else if d >= SLOTS as i32 {
            // Far ahead of playout (a burst after a stall): skip frames to make room.
            self.skip_to(seq.wrapping_sub(SLOTS as u16 - 1));
        }
        let slot = &self.slots[usize::from(seq) % SLOTS];
        if slot.full && slot.seq == seq {
            return Push::Duplicate;
        }
        self.store(seq, payload)
    }

    /// Called once per 20 ms tick: the next frame in sequence order, or `None` while filling,
    /// when the buffer has run dry (it then refills to `depth`), or when the next frame is
    /// missing while later ones wait (counted in [`lost`](Self::lost); conceal with silence).
    pub fn pop(&mut self) -> Option<&[u8]> {
        let next = self.next?;
        let waiting = distance(next, self.highest) + 1;
        if waiting <= 0 {
            self.playing = false;
            return None;
        }
        if !self.playing {
            if (waiting as usize) < self.depth {
                return None;
            }
            self.playing = true;
            self.started = true;
        }
        self.next = Some(next.wrapping_add(1));
        let slot = &mut self.slots[usize::from(next) % SLOTS];
        if slot.full && slot.seq == next {
            slot.full = false;
            Some(&slot.data[..slot.len])
        } else {
            self.lost += 1;
            None
        }
    }

    /// Frames that never arrived in time to be played.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Packets that arrived after their turn had passed.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Empties the buffer and forgets the stream (the next push starts a new one). The
    /// `lost` and `late` counters keep counting across resets.
    pub fn reset(&mut self) {
        self.clear();
    }

    fn clear(&mut self) {
        for slot in self.slots.iter_mut() {
            slot.full = false;
        }
        self.next = None;
        self.playing = false;
        self.started = false;
    }

    fn start_stream(&mut self, seq: u16) {
        self.next = Some(seq);
        self.highest = seq;
    }

    /// Moves the playout point forward to `target`, counting skipped frames as lost.
    fn skip_to(&mut self, target: u16) {
        while let Some(next) = self.next {
            if distance(next, target) <= 0 {
                break;
            }
            let slot = &mut self.slots[usize::from(next) % SLOTS];
            if slot.full && slot.seq == next {
                slot.full = false;
            }
            self.lost += 1;
            self.next = Some(next.wrapping_add(1));
        }
    }

    fn store(&mut self, seq: u16, payload: &[u8]) -> Push {
        let n = payload.len().min(MAX_FRAME_BYTES);
        let slot = &mut self.slots[usize::from(seq) % SLOTS];
        slot.seq = seq;
        slot.full = true;
        slot.len = n;
        slot.data[..n].copy_from_slice(&payload[..n]);
        if distance(self.highest, seq) > 0 {
            self.highest = seq;
        }
        Push::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u16) -> [u8; 4] {
        let [a, b] = seq.to_be_bytes();
        [a, b, 0xAB, 0xCD]
    }

    /// Pops `ticks` times; `Some(seq)` for a frame (decoded from its payload), `None` otherwise.
    fn play(jb: &mut JitterBuffer, ticks: usize) -> Vec<Option<u16>> {
        (0..ticks)
            .map(|_| jb.pop().map(|p| u16::from_be_bytes([p[0], p[1]])))
            .collect()
    }

    #[test]
    fn in_order_frames_play_out_after_the_initial_fill() {
        let mut jb = JitterBuffer::new(3);
        assert_eq!(jb.pop(), None, "nothing received yet");
        jb.push(10, &frame(10));
        assert_eq!(jb.pop(), None, "filling");
        jb.push(11, &frame(11));
        assert_eq!(jb.pop(), None, "filling");
        jb.push(12, &frame(12));
        assert_eq!(play(&mut jb, 1), [Some(10)]);
        for seq in 13..20 {
            assert_eq!(jb.push(seq, &frame(seq)), Push::Accepted);
            assert_eq!(play(&mut jb, 1), [Some(seq - 2)]);
        }
        assert_eq!((jb.lost(), jb.late()), (0, 0));
    }

    #[test]
    fn reordered_frames_come_out_in_sequence_order() {
        let mut jb = JitterBuffer::new(3);
        for seq in [101, 100, 103, 102, 105, 104] {
            assert_eq!(jb.push(seq, &frame(seq)), Push::Accepted);
        }
        assert_eq!(
            play(&mut jb, 7),
            [
                Some(100),
                Some(101),
                Some(102),
                Some(103),
                Some(104),
                Some(105),
                None
            ]
        );
        assert_eq!(jb.lost(), 0);
    }

    #[test]
    fn duplicate_of_a_waiting_frame_is_dropped() {
        let mut jb = JitterBuffer::new(2);
        assert_eq!(jb.push(5, &frame(5)), Push::Accepted);
        assert_eq!(jb.push(5, &frame(5)), Push::Duplicate);
        assert_eq!(jb.push(6, &frame(6)), Push::Accepted);
        assert_eq!(play(&mut jb, 3), [Some(5), Some(6), None]);
    }

    #[test]
    fn frame_arriving_after_its_turn_is_late() {
        let mut jb = JitterBuffer::new(2);
        jb.push(1, &frame(1));
        jb.push(3, &frame(3));
        assert_eq!(play(&mut jb, 2), [Some(1), None]);
        assert_eq!(jb.lost(), 1);
        assert_eq!(jb.push(2, &frame(2)), Push::Late);
        assert_eq!(
            jb.push(1, &frame(1)),
            Push::Late,
            "replay of a played frame"
        );
        assert_eq!(jb.late(), 2);
        assert_eq!(play(&mut jb, 1), [Some(3)]);
    }

    #[test]
    fn missing_frame_is_skipped_and_counted_lost() {
        let mut jb = JitterBuffer::new(3);
        for seq in [1, 2, 3, 5, 6, 7] {
            jb.push(seq, &frame(seq));
        }
        assert_eq!(
            play(&mut jb, 7),
            [Some(1), Some(2), Some(3), None, Some(5), Some(6), Some(7)]
        );
        assert_eq!(jb.lost(), 1);
    }

    #[test]
    fn underrun_waits_for_the_sender_instead_of_counting_loss() {
        let mut jb = JitterBuffer::new(2);
        jb.push(1, &frame(1));
        jb.push(2, &frame(2));
        assert_eq!(
            play(&mut jb, 10),
            [
                Some(1),
                Some(2),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
        assert_eq!(jb.lost(), 0);
        assert_eq!(
            jb.push(2, &frame(2)),
            Push::Late,
            "a replay while dry is still late"
        );
        jb.push(3, &frame(3));
        assert_eq!(jb.pop(), None, "refilling");
        jb.push(4, &frame(4));
        assert_eq!(play(&mut jb, 2), [Some(3), Some(4)]);
        assert_eq!((jb.lost(), jb.late()), (0, 1));
    }

    #[test]
    fn sequence_numbers_wrap_at_65535() {
        let mut jb = JitterBuffer::new(3);
        for seq in [65534, 0, 65535, 1, 2] {
            assert_eq!(jb.push(seq, &frame(seq)), Push::Accepted);
        }
        assert_eq!(
            play(&mut jb, 6),
            [Some(65534), Some(65535), Some(0), Some(1), Some(2), None]
        );
        assert_eq!(jb.push(65535, &frame(65535)), Push::Late);
        assert_eq!(jb.lost(), 0);
    }

    #[test]
    fn large_sequence_jump_restarts_the_stream_without_counting_loss() {
        let mut jb = JitterBuffer::new(2);
        for seq in 10..14 {
            jb.push(seq, &frame(seq));
        }
        assert_eq!(play(&mut jb, 2), [Some(10), Some(11)]);
        jb.push(40_000, &frame(40_000));
        assert_eq!(jb.pop(), None, "refilling the new stream");
        jb.push(40_001, &frame(40_001));
        assert_eq!(play(&mut jb, 2), [Some(40_000), Some(40_001)]);
        assert_eq!(jb.lost(), 0);
        jb.push(9, &frame(9));
        assert_eq!(jb.lost(), 0, "a jump backwards restarts too");
    }

    #[test]
    fn burst_beyond_the_ring_skips_ahead_and_counts_the_skipped_frames() {
        let mut jb = JitterBuffer::new(1);
        jb.push(0, &frame(0));
        assert_eq!(jb.push(50, &frame(50)), Push::Accepted);
        assert_eq!(jb.lost(), 19, "frames 0..=18 dropped to make room");
        let played = play(&mut jb, 32);
        assert_eq!(played.last(), Some(&Some(50)));
    }

    #[test]
    fn reset_forgets_the_stream_but_keeps_counters() {
        let mut jb = JitterBuffer::new(1);
        jb.push(1, &frame(1));
        jb.push(3, &frame(3));
        play(&mut jb, 2);
        jb.reset();
        assert_eq!(jb.pop(), None);
        assert_eq!(
            jb.push(1, &frame(1)),
            Push::Accepted,
            "old numbers are fine after reset"
        );
        assert_eq!(play(&mut jb, 1), [Some(1)]);
        assert_eq!(jb.lost(), 1);
    }

    #[test]
    fn long_payloads_are_truncated_and_depth_is_clamped() {
        let mut jb = JitterBuffer::new(0);
        jb.push(1, &[7u8; 2000]);
        assert_eq!(jb.pop().map(<[u8]>::len), Some(MAX_FRAME_BYTES));
        assert_eq!(JitterBuffer::new(1000).depth, MAX_DEPTH);
    }
}
