//! A machine refused, for [`PersonRequests`]: "I don't want to talk to a machine", "no robots",
//! "不要机器人" ask for a person without naming one.

use super::{find_all, words, PersonAsk, PersonRequests};
use crate::text::Token;

impl PersonRequests {
    /// A machine refused ("I don't want to talk to a machine", "no robots", "不要机器人"): the
    /// caller wants a person. A negator shortly before a word for the machine, with nothing
    /// but light words, request frames and 跟 between them ("don't want to talk to a"), so
    /// that "I didn't hear the recording" or "I don't know if this machine…" refuses nothing.
    /// The request names nobody, so a choice said in the same words is the answer ("no robot,
    /// just billing").
    pub(super) fn machine_refused(
        &self,
        said: &[Token],
        frames: &[(usize, usize)],
        negators: &[(usize, usize)],
    ) -> Option<PersonAsk> {
        // Frames (in any form of the word: "talking" for "talk"), and Mandarin's "with"
        // (不想跟机器说话).
        let with = find_all(said, &self.zh_with);
        let in_frame = |i: usize| {
            self.frame_stems.contains(&said[i].stem)
                || frames
                    .iter()
                    .chain(&with)
                    .any(|(f, len)| (*f..f + len).contains(&i))
        };
        find_all(said, &self.machines)
            .into_iter()
            .find_map(|(m, mlen)| {
                negators
                    .iter()
                    .filter(|(n, len)| n + len <= m)
                    .find(|(n, len)| {
                        let between: Vec<usize> = (n + len..m)
                            .filter(|&i| !self.light.contains(&said[i].text))
                            .collect();
                        let other = between.iter().filter(|&&i| !in_frame(i)).count();
                        between.len() <= 3 && other == 0
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
