//! What the caller hears, 20 ms at a time: an engine prompt, ringback while agents ring, the
//! queue's announcements and music on hold, the "connecting you" words over them, the message
//! apology and tone, or silence. Sans-IO: the shared media clock asks for the next frame on
//! each tick and sends it; the call says what plays. Nothing here allocates per frame: the
//! looping sounds (ringback, music on hold) are made once per process and shared by every call.

use super::prompt::{hold_music, ringback, Player, Prompt, FRAME_SAMPLES};
use std::collections::VecDeque;
use std::sync::OnceLock;

/// Samples in one 20 ms frame.
const FRAME: usize = FRAME_SAMPLES;

/// What plays now.
#[derive(Debug)]
enum Sound {
    /// Comfort silence.
    Silence,
    /// An engine prompt; [`Ended::Prompt`] when it ends.
    Prompt { id: u32, player: Player },
    /// Ringback while agents ring (loops).
    Ringback(Player),
    /// The agent's audio is relayed as it arrives: nothing on the tick.
    Bridged,
    /// The apology before the message, then the tone; [`Ended::MessageIntro`] after them.
    MessageIntro(VecDeque<Player>),
    /// Recording the caller's message.
    Recording,
    /// Waiting in the queue: an announcement (position, expected wait), then music on hold.
    Hold {
        intro: VecDeque<Player>,
        music: Player,
    },
}

/// Something that finished playing on this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The engine prompt with this id.
    Prompt(u32),
    /// The message apology and tone: recording starts.
    MessageIntro,
}

/// One tick's outcome: whether a packet goes out (not while bridged: the agent's audio is
/// relayed as it arrives), with the RTP marker bit (the first packet of each new sound, never
/// on silence), and what ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// A packet goes out with the frame written.
    pub send: bool,
    /// The packet starts a talkspurt (RTP marker bit).
    pub marker: bool,
    /// What ended on this tick.
    pub ended: Option<Ended>,
}

/// The caller's playout.
#[derive(Debug)]
pub struct Playout {
    sound: Sound,
    /// "Connecting you": plays over ringback and hold music (which wait for it) while the
    /// agents already ring.
    connecting: VecDeque<Player>,
    marker: bool,
}

impl Default for Playout {
    fn default() -> Self {
        Self::new()
    }
}

/// Ringback, made once for every call (6 s: two cadences and a half).
fn shared_ringback() -> Prompt {
    static RINGBACK: OnceLock<Prompt> = OnceLock::new();
    RINGBACK.get_or_init(|| ringback(6000)).clone()
}

/// Music on hold, made once for every call.
fn shared_hold_music() -> Prompt {
    static MUSIC: OnceLock<Prompt> = OnceLock::new();
    MUSIC.get_or_init(hold_music).clone()
}

impl Playout {
    /// Silence, the next packet marked.
    pub fn new() -> Self {
        Playout {
            sound: Sound::Silence,
            connecting: VecDeque::new(),
            marker: true,
        }
    }

    /// Plays engine prompt `id` from its start, in place of whatever played.
    pub fn play(&mut self, id: u32, prompt: Prompt) {
        self.sound = Sound::Prompt {
            id,
            player: Player::new(prompt),
        };
        self.marker = true;
    }

    /// The engine prompt playing now, if any.
    pub fn prompt(&self) -> Option<u32> {
        match &self.sound {
            Sound::Prompt { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Stops an engine prompt (barge-in); other sounds go on.
    pub fn stop_prompt(&mut self) {
        if matches!(self.sound, Sound::Prompt { .. }) {
            self.sound = Sound::Silence;
        }
    }

    /// Ringback, unless it already plays (it does not start over).
    pub fn ringback(&mut self) {
        if !matches!(self.sound, Sound::Ringback(_)) {
            self.sound = Sound::Ringback(Player::new(shared_ringback()));
            self.marker = true;
        }
    }

    /// The queue's announcement `intro`, then music on hold.
    pub fn hold(&mut self, intro: impl IntoIterator<Item = Prompt>) {
        self.sound = Sound::Hold {
            intro: intro.into_iter().map(Player::new).collect(),
            music: Player::new(shared_hold_music()),
        };
        self.marker = true;
    }

    /// Words played while the agents ring, over ringback or hold music (after any already
    /// waiting).
    pub fn connecting(&mut self, prompts: impl IntoIterator<Item = Prompt>) {
        self.connecting.extend(prompts.into_iter().map(Player::new));
        self.marker = true;
    }

    /// An agent answered: their audio is relayed, the "connecting" words stop.
    pub fn bridge(&mut self) {
        self.connecting.clear();
        self.sound = Sound::Bridged;
    }

    /// Whether the agent's audio is relayed.
    pub fn is_bridged(&self) -> bool {
        matches!(self.sound, Sound::Bridged)
    }

    /// Nobody can take the call: `intro` (the apology and the tone), then recording.
    pub fn message_intro(&mut self, intro: impl IntoIterator<Item = Prompt>) {
        self.connecting.clear();
        self.sound = Sound::MessageIntro(intro.into_iter().map(Player::new).collect());
        self.marker = true;
    }

    /// Silence from now on (the call is over).
    pub fn silence(&mut self) {
        self.connecting.clear();
        self.sound = Sound::Silence;
    }

    /// The next 20 ms into `out`.
    pub fn next_frame(&mut self, out: &mut [i16; FRAME]) -> Frame {
        out.fill(0);
        let mut ended = None;
        let mut send = true;
        // The marker starts a sound (RFC 3551 §4.1: a talkspurt); the line's silence never
        // takes it, so a prompt that starts after a quiet moment is still marked.
        let sounding = !matches!(self.sound, Sound::Silence | Sound::Recording);
        // "Connecting you" plays over ringback and hold music while the agents already ring;
        // the queue's own sounds wait for it (they do not advance meanwhile).
        let connecting = matches!(
            self.sound,
            Sound::Silence | Sound::Ringback(_) | Sound::Hold { .. }
        ) && next_of(&mut self.connecting, out);
        if !connecting {
            match &mut self.sound {
                Sound::Silence | Sound::Recording => {}
                Sound::Prompt { id, player } => {
                    if !player.next_frame(out) {
                        ended = Some(Ended::Prompt(*id));
                    }
                }
                Sound::Ringback(player) => looped(player, out),
                Sound::Hold { intro, music } => {
                    if !next_of(intro, out) {
                        looped(music, out);
                    }
                }
                Sound::Bridged => send = false,
                Sound::MessageIntro(players) => {
                    if !next_of(players, out) {
                        ended = Some(Ended::MessageIntro);
                    }
                }
            }
        }
        match ended {
            Some(Ended::Prompt(_)) => self.sound = Sound::Silence,
            Some(Ended::MessageIntro) => self.sound = Sound::Recording,
            None => {}
        }
        let marker = send && (sounding || connecting) && std::mem::take(&mut self.marker);
        Frame {
            send,
            marker,
            ended,
        }
    }
}

/// The next 20 ms of a looping sound.
fn looped(player: &mut Player, out: &mut [i16; FRAME]) {
    if !player.next_frame(out) {
        player.restart();
        player.next_frame(out);
    }
}

/// The next 20 ms of a sequence of prompts, dropping each as it ends; `false` when all ended.
fn next_of(players: &mut VecDeque<Player>, out: &mut [i16; FRAME]) -> bool {
    while let Some(p) = players.front_mut() {
        if p.next_frame(out) {
            return true;
        }
        players.pop_front();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prompt of `frames` 20 ms frames, every sample `level`.
    fn prompt(frames: usize, level: i16) -> Prompt {
        Prompt::from_samples(vec![level; frames * FRAME])
    }

    /// Plays `n` ticks; returns each tick's frame and its loudest sample.
    fn play(p: &mut Playout, n: usize) -> Vec<(Frame, i16)> {
        let mut out = [0i16; FRAME];
        (0..n)
            .map(|_| {
                let f = p.next_frame(&mut out);
                (f, out.iter().map(|s| s.saturating_abs()).max().unwrap_or(0))
            })
            .collect()
    }

    #[test]
    fn a_prompt_plays_to_its_end_once_then_silence() {
        let mut p = Playout::new();
        p.play(7, prompt(3, 100));
        let ticks = play(&mut p, 5);
        let levels: Vec<i16> = ticks.iter().map(|t| t.1).collect();
        assert_eq!(levels, [100, 100, 100, 0, 0]);
        let ended: Vec<_> = ticks.iter().filter_map(|t| t.0.ended).collect();
        assert_eq!(ended, [Ended::Prompt(7)], "the end is told once");
        assert!(ticks[0].0.marker && !ticks[1].0.marker, "marked once");
        assert!(ticks.iter().all(|t| t.0.send));
        assert_eq!(p.prompt(), None);
    }

    #[test]
    fn the_marker_waits_for_the_first_sound_not_the_silence_before_it() {
        let mut p = Playout::new();
        let quiet = play(&mut p, 3);
        assert!(quiet.iter().all(|t| t.0.send && !t.0.marker && t.1 == 0));
        // A prompt whose audio took a moment to make: marked when it starts.
        p.play(2, prompt(2, 100));
        let ticks = play(&mut p, 3);
        let marked: Vec<bool> = ticks.iter().map(|t| t.0.marker).collect();
        assert_eq!(marked, [true, false, false]);
        p.play(3, prompt(1, 100));
        assert!(play(&mut p, 1)[0].0.marker, "each prompt is marked");
    }

    #[test]
    fn barge_in_stops_the_prompt_without_an_end_event() {
        let mut p = Playout::new();
        p.play(1, prompt(10, 100));
        play(&mut p, 2);
        p.stop_prompt();
        let ticks = play(&mut p, 3);
        assert!(ticks.iter().all(|t| t.1 == 0 && t.0.ended.is_none()));
    }

    #[test]
    fn ringback_loops_and_asking_again_does_not_restart_it() {
        let mut p = Playout::new();
        p.ringback();
        // 6 s of ringback is 300 frames: well past one loop, it still sounds.
        let ticks = play(&mut p, 320);
        assert!(ticks.iter().all(|t| t.0.send && t.0.ended.is_none()));
        assert!(ticks[300..].iter().any(|t| t.1 != 0), "the loop goes on");
        p.ringback();
        assert!(!p.next_frame(&mut [0; FRAME]).marker, "not started over");
    }

    #[test]
    fn connecting_words_play_over_ringback_which_waits_for_them() {
        let mut p = Playout::new();
        p.ringback();
        p.connecting([prompt(2, 555)]);
        let ticks = play(&mut p, 3);
        assert_eq!(ticks[0].1, 555);
        assert_eq!(ticks[1].1, 555);
        assert!(ticks[0].0.marker);
        // Then ringback from its start: its first frame is the tone's fade-in.
        let mut fresh = Playout::new();
        fresh.ringback();
        assert_eq!(play(&mut fresh, 1)[0].1, ticks[2].1);
    }

    #[test]
    fn hold_plays_the_announcement_then_music() {
        let mut p = Playout::new();
        p.hold([prompt(1, 11), prompt(1, 22)]);
        let ticks = play(&mut p, 3);
        assert_eq!((ticks[0].1, ticks[1].1), (11, 22));
        assert!(ticks[2].0.send && ticks[2].0.ended.is_none());
    }

    #[test]
    fn the_message_intro_ends_once_then_the_line_is_quiet_while_recording() {
        let mut p = Playout::new();
        p.ringback();
        p.connecting([prompt(5, 9)]);
        p.message_intro([prompt(1, 40), prompt(1, 50)]);
        let ticks = play(&mut p, 4);
        let levels: Vec<i16> = ticks.iter().map(|t| t.1).collect();
        assert_eq!(levels, [40, 50, 0, 0], "connecting words dropped");
        let ended: Vec<_> = ticks.iter().filter_map(|t| t.0.ended).collect();
        assert_eq!(ended, [Ended::MessageIntro]);
    }

    #[test]
    fn bridged_sends_nothing_on_the_tick() {
        let mut p = Playout::new();
        p.connecting([prompt(5, 9)]);
        p.bridge();
        assert!(p.is_bridged());
        let f = p.next_frame(&mut [0; FRAME]);
        assert!(!f.send && !f.marker);
    }

    #[test]
    fn every_call_shares_one_copy_of_ringback_and_hold_music() {
        assert_eq!(
            shared_ringback().samples().as_ptr(),
            shared_ringback().samples().as_ptr()
        );
        assert_eq!(
            shared_hold_music().samples().as_ptr(),
            shared_hold_music().samples().as_ptr()
        );
    }
}
