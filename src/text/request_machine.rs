//! A machine refused, for [`PersonRequests`]: "I don't want to talk to a machine", "no robots",
//! "不要机器人", "I'm tired of talking to a computer" ask for a person without naming one.

use super::{find_all, words, PersonAsk, PersonRequests};
use crate::text::Token;

/// Tokens between a refusal and the machine it refuses, light words aside; each must be a
/// frame or a word pointing at the machine ("don't want to talk to a", "烦死这个").
const REFUSAL_REACH: usize = 3;

impl PersonRequests {
    /// A machine refused ("I don't want to talk to a machine", "no robots", "不要机器人", "sick
    /// of this robot", "受够了机器人"): the caller wants a person. A negator or a word of
    /// aversion shortly before a word for the machine, with nothing but light words, request
    /// frames, 跟 and words pointing at it ("this", "这个") between them, so that "I didn't hear
    /// the recording" or "I don't know if this machine…" refuses nothing. A word for the
    /// machine with an everyday sense of its own ("computer", 电脑) counts only as what the
    /// caller would talk to ("talk to a computer", "跟电脑说话"). The request names nobody, so
    /// a choice said in the same words is the answer ("no robot, just billing").
    pub(super) fn machine_refused(
        &self,
        said: &[Token],
        frames: &[(usize, usize)],
        negators: &[(usize, usize)],
    ) -> Option<PersonAsk> {
        // Frames (in any form of the word: "talking" for "talk"), Mandarin's "with"
        // (不想跟机器说话) and pointing words.
        let with = find_all(said, &self.zh_with);
        let pointing = find_all(said, &self.definite_phrases);
        let spans: Vec<(usize, usize)> = frames
            .iter()
            .chain(&with)
            .chain(&pointing)
            .copied()
            .collect();
        let carries_nothing = |i: usize| {
            self.light.contains(&said[i].text)
                || self.frame_stems.contains(&said[i].stem)
                || spans.iter().any(|(f, len)| (*f..f + len).contains(&i))
        };
        // What a caller would talk to: after a verb of talking or 跟, pointing words aside.
        let talked_to: Vec<(usize, usize)> = find_all(said, &self.speech_verbs)
            .into_iter()
            .chain(with.iter().copied())
            .collect();
        let pointed = |i: usize| pointing.iter().any(|(p, len)| (*p..p + len).contains(&i));
        let spoken_machines =
            find_all(said, &self.spoken_machines)
                .into_iter()
                .filter(|&(m, _)| {
                    talked_to.iter().any(|&(v, len)| {
                        v + len <= m
                            && (v + len..m)
                                .all(|i| self.light.contains(&said[i].text) || pointed(i))
                    })
                });
        let refusals: Vec<(usize, usize)> = negators
            .iter()
            .copied()
            .chain(find_all(said, &self.aversions))
            .collect();
        find_all(said, &self.machines)
            .into_iter()
            .chain(spoken_machines)
            .find_map(|(m, mlen)| {
                refusals
                    .iter()
                    .filter(|(n, len)| n + len <= m)
                    .find(|(n, len)| {
                        let between: Vec<usize> = (n + len..m)
                            .filter(|&i| !self.light.contains(&said[i].text))
                            .collect();
                        between.len() <= REFUSAL_REACH
                            && between.iter().all(|&i| carries_nothing(i))
                    })
                    .map(|(n, _)| PersonAsk::Request {
                        how: format!(
                            "refused the machine (\"{}\")",
                            words(&said[*n..m + mlen], " ")
                        ),
                        phrase: words(&said[m..m + mlen], " "),
                        framed: false,
                        named: false,
                    })
            })
    }
}
