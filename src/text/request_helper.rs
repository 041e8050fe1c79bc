//! Someone asked to help or to be there, for [`PersonRequests`]: "can someone help me", "is
//! anyone available", "who can help me", "有人能帮我吗", "谁能帮帮我".

use super::{find_all, governs, words, PersonAsk, PersonRequests};
use crate::text::Token;

/// Tokens from the end of the person to the verb of helping or being there ("someone who can
/// help", "有人能帮").
const HELPER_REACH: usize = 3;

impl PersonRequests {
    /// A person as the subject of helping or being there: a name (`strong`: "is an agent
    /// available"), a word for a person of more than one character ("someone", "工作人员"; not
    /// the 人 of 别人) or a question word for one ("who", "谁", "有人"), followed shortly by a
    /// word of helping ("help", "帮") or of being there ("available", "pick up", "有空"). Not
    /// when a negator governs either ("nobody can help"), the clause reports ("someone told me
    /// to ask for help"), or the person is pointed at ("the agent helped"). Helping names
    /// nobody in particular unless a name is its subject, so a choice said in the same words is
    /// the answer ("can someone help me with my bill").
    pub(super) fn helper_asked(
        &self,
        said: &[Token],
        negators: &[(usize, usize)],
        reported: bool,
    ) -> Option<PersonAsk> {
        if reported {
            return None;
        }
        let strong = self
            .strong
            .all_in(said)
            .into_iter()
            .map(|m| (m.start, m.len, true));
        let weak = self
            .weak
            .all_in(said)
            .into_iter()
            .filter(|m| !said[m.start].cjk || m.len >= 2)
            .map(|m| (m.start, m.len, false));
        let helpers = find_all(said, &self.helpers)
            .into_iter()
            .map(|(at, len)| (at, len, false));
        let helping: Vec<(usize, usize, bool)> = find_all(said, &self.helping)
            .into_iter()
            .map(|(at, len)| (at, len, false))
            .chain(
                find_all(said, &self.present)
                    .into_iter()
                    .map(|(at, len)| (at, len, true)),
            )
            .collect();
        let pointed = |at: usize| at > 0 && self.definite.contains(&said[at - 1].text);
        strong
            .chain(weak)
            .chain(helpers)
            .find_map(|(at, len, named)| {
                if pointed(at) || governs(negators, at) {
                    return None;
                }
                let end = at + len;
                let (v, vlen, there) = helping
                    .iter()
                    .filter(|(v, ..)| *v >= end && v - end <= HELPER_REACH)
                    .min_by_key(|(v, ..)| *v)?;
                // "An agent couldn't help", "有人不帮": a negator or a negative contraction between.
                let denied = |i: usize| {
                    negators.iter().any(|(n, _)| *n == i)
                        || (!said[i].cjk && said[i].text.ends_with("nt"))
                };
                if governs(negators, *v) || (end..*v).any(denied) {
                    return None;
                }
                Some(PersonAsk::Request {
                    how: format!(
                        "asked someone to help (\"{}\")",
                        words(&said[at..v + vlen], if said[at].cjk { "" } else { " " })
                    ),
                    phrase: words(&said[at..end], if said[at].cjk { "" } else { " " }),
                    framed: false,
                    named: named || *there,
                })
            })
    }
}
