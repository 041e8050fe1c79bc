//! Words a support line's callers use for the same thing ("online" for internet, 快递 for 订单),
//! tied to the choices of a question.
//!
//! An operator lists a few words per choice; callers use others. The built-in groups
//! (`synonyms` in `builtin_phrases.toml`) are sets of interchangeable support-line words in
//! English and Mandarin. A group belongs to a choice when one of the choice's own phrases is in the
//! group, compared by stem; the group's other words then name that choice too. A word inside a
//! longer phrase does not tie a group: "pay a bill" is about paying, and "bill" in it must not
//! make "charge" or "statement" name it. A group that belongs to two choices of one question
//! names neither (it cannot tell them apart), and a word the plan gives to another choice, whole
//! or inside a phrase ([`key_words`]), stays that choice's. The engine tries these only after the
//! plan's own phrases and words found nothing.
//!
//! A narrower topic falls back to a broader one (`broader` in `builtin_phrases.toml`): a group
//! that no choice of the question names, whose broader group names exactly one, names that
//! choice ("refund" at a menu that offers billing but no refunds).

use super::builtin::builtin;
use super::matcher::{MatchConfig, PhraseSet};
use super::normalize::Token;
use super::parts::{key_words, stemmed as key};

/// Per choice of one question (its phrases in `choices`): the synonyms that name it and no other
/// choice, and for each the label it is reported with ("online (≈ internet)"). Empty sets
/// when `groups` tie nothing to a choice.
pub fn synonyms_of(
    choices: &[&[String]],
    groups: &[Vec<String>],
    broader: &[[String; 2]],
    m: MatchConfig,
) -> Vec<(PhraseSet, Vec<String>)> {
    // Each choice's phrases, which tie groups to it, and every key it owns: those phrases and
    // the words inside them, which no other choice may take as a synonym.
    let phrases: Vec<Vec<(String, &String)>> = choices
        .iter()
        .map(|ps| ps.iter().map(|p| (key(p), p)).collect())
        .collect();
    let owned: Vec<String> = choices
        .iter()
        .flat_map(|ps| ps.iter())
        .flat_map(|p| std::iter::once(key(p)).chain(key_words(p).into_iter().map(|w| key(&w))))
        .collect();
    let mut found: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new()); choices.len()];
    // The choices a group belongs to, each with the phrase that ties it.
    let owners_of = |keys: &[String]| -> Vec<(usize, &String)> {
        phrases
            .iter()
            .enumerate()
            .filter_map(|(i, mine)| {
                mine.iter()
                    .find(|(k, _)| keys.contains(k))
                    .map(|(_, p)| (i, *p))
            })
            .collect()
    };
    let keyed: Vec<Vec<String>> = groups
        .iter()
        .map(|g| g.iter().map(|w| key(w)).collect())
        .collect();
    for (group, keys) in groups.iter().zip(&keyed) {
        let mut owners = owners_of(keys);
        if owners.is_empty() {
            // Nobody's: a narrower topic goes to the choice that names its broader one.
            if let Some(wider) = broader_group(keys, broader, &keyed) {
                owners = owners_of(wider);
            }
        }
        let [(i, anchor)] = owners[..] else {
            continue; // nobody's, or two choices': it tells nothing apart
        };
        for (word, k) in group.iter().zip(keys) {
            if !owned.contains(k) && !found[i].0.contains(word) {
                found[i].0.push(word.clone());
                found[i].1.push(format!("{word} (≈ {anchor})"));
            }
        }
    }
    found
        .into_iter()
        .map(|(words, labels)| (PhraseSet::new(&words, m), labels))
        .collect()
}

/// The keys of the group that `broader` names as the wider topic of the group keyed `keys`
/// (a pair names each group by one of its words).
fn broader_group<'g>(
    keys: &[String],
    broader: &[[String; 2]],
    keyed: &'g [Vec<String>],
) -> Option<&'g Vec<String>> {
    let wider = broader
        .iter()
        .find(|[narrow, _]| keys.contains(&key(narrow)))
        .map(|[_, wide]| key(wide))?;
    keyed.iter().find(|g| g.contains(&wider))
}

/// The caller's words without the English verbs of asking for someone ("connect", "transfer",
/// "talk": the one-word `talk_frames` of `[person_request]`), which a synonym must not read as a
/// choice: "connect me to an agent" with the agent misheard is a caller asking for a person,
/// not one naming the internet by "connection". Synonyms are matched on what is left.
pub fn without_asking_verbs(said: &[Token]) -> Vec<Token> {
    let verbs = &builtin().person_request.talk_frames;
    said.iter()
        .filter(|t| t.cjk || !verbs.contains(&t.text))
        .cloned()
        .collect()
}

/// [`synonyms_of`] with the built-in groups, or nothing when the plan turned them off.
pub fn builtin_synonyms_of(choices: &[&[String]], m: MatchConfig) -> Vec<(PhraseSet, Vec<String>)> {
    if m.synonyms {
        synonyms_of(choices, &builtin().synonyms, &builtin().broader, m)
    } else {
        synonyms_of(choices, &[], &[], m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokens;

    fn menu() -> Vec<Vec<String>> {
        [
            &["billing", "bill", "payment"][..],
            &["technical", "fault", "internet"],
            &["order", "delivery"],
            &["hours", "opening times"],
        ]
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
    }

    /// The choice and label `said` names by synonym at `menu`.
    fn named(choices: &[Vec<String>], said: &str) -> Option<(usize, String)> {
        let refs: Vec<&[String]> = choices.iter().map(|c| &c[..]).collect();
        let sets = builtin_synonyms_of(&refs, MatchConfig::default());
        let t = tokens(said);
        sets.iter()
            .enumerate()
            .find_map(|(i, (set, labels))| set.best_in(&t).map(|m| (i, labels[m.index].clone())))
    }

    #[test]
    fn a_verb_of_asking_for_someone_is_no_synonym() {
        let m = menu();
        let refs: Vec<&[String]> = m.iter().map(|c| &c[..]).collect();
        let sets = builtin_synonyms_of(&refs, MatchConfig::default());
        let named = |said: &str| {
            let t = without_asking_verbs(&tokens(said));
            sets.iter().position(|(set, _)| set.best_in(&t).is_some())
        };
        assert_eq!(named("connect, meet, run"), None, "connect me … misheard");
        assert_eq!(named("my connection keeps dropping"), Some(1));
        assert_eq!(named("I can't get online"), Some(1));
    }

    #[test]
    fn a_callers_word_names_the_choice_its_group_belongs_to() {
        let m = menu();
        assert_eq!(
            named(&m, "I can't get online"),
            Some((1, "online (≈ internet)".into()))
        );
        assert_eq!(named(&m, "where is my package").map(|f| f.0), Some(2));
        assert_eq!(named(&m, "I was overcharged").map(|f| f.0), Some(0));
        assert_eq!(
            named(&m, "I got a letter saying I haven't paid").map(|f| f.0),
            Some(0)
        );
        // Money taken is a billing matter at a line whose billing choice lists "bill".
        assert_eq!(
            named(&m, "you took too much money from my account").map(|f| f.0),
            Some(0)
        );
        assert_eq!(named(&m, "the wifi keeps dropping").map(|f| f.0), Some(1));
        // A word of an opening-times phrase ties its group ("open" by "opening", stemmed).
        assert_eq!(named(&m, "what time do you open").map(|f| f.0), Some(3));
        // The plan's own words are not repeated as synonyms of their choice.
        let refs: Vec<&[String]> = m.iter().map(|c| &c[..]).collect();
        for (i, (_, labels)) in builtin_synonyms_of(&refs, MatchConfig::default())
            .iter()
            .enumerate()
        {
            for own in &m[i] {
                assert!(
                    !labels.iter().any(|l| l.starts_with(&format!("{own} ("))),
                    "{own}"
                );
            }
        }
        assert_eq!(named(&m, "the weather is nice"), None);
    }

    #[test]
    fn mandarin_words_name_their_choice() {
        let zh: Vec<Vec<String>> = [&["账单", "缴费"][..], &["故障", "网络"], &["订单", "物流"]]
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(named(&zh, "我的包裹还没到").map(|f| f.0), Some(2));
        assert_eq!(named(&zh, "宽带连不上").map(|f| f.0), Some(1));
        assert_eq!(named(&zh, "这个月话费怎么这么高").map(|f| f.0), Some(0));
        assert_eq!(named(&zh, "为什么扣了我这么多钱").map(|f| f.0), Some(0));
        assert_eq!(named(&zh, "网老是掉线").map(|f| f.0), Some(1));
        assert_eq!(named(&zh, "这个月扣的钱太多了").map(|f| f.0), Some(0));
        assert_eq!(named(&zh, "今天天气很好"), None);
    }

    #[test]
    fn a_word_inside_a_longer_phrase_ties_no_group() {
        // The billing menu: "bill" of "pay a bill" must not make "charge" name paying.
        let m: Vec<Vec<String>> = [&["balance", "how much"][..], &["pay", "pay a bill"]]
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(named(&m, "there is a strange charge on my account"), None);
        assert_eq!(
            named(&m, "can I set up a direct debit").map(|f| f.0),
            Some(1)
        );
    }

    #[test]
    fn a_group_two_choices_share_names_neither() {
        // "bill" and "invoice" are one group: a question offering both cannot be answered by
        // "statement".
        let m: Vec<Vec<String>> = [&["bill"][..], &["invoice"]]
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(named(&m, "my statement is wrong"), None);
    }

    #[test]
    fn a_narrower_topic_falls_back_to_its_broader_choice() {
        let m = menu();
        // No refund choice: a refund is a billing question.
        assert_eq!(
            named(&m, "can I get a refund").map(|f| f.1),
            Some("refund (≈ billing)".into())
        );
        // A menu with its own refund choice keeps refunds there, and billing keeps its words.
        let mut with_refunds = menu();
        with_refunds.push(vec!["refunds".into()]);
        assert_eq!(
            named(&with_refunds, "I'd like to be reimbursed").map(|f| f.0),
            Some(4)
        );
        assert_eq!(
            named(&with_refunds, "my statement is wrong").map(|f| f.0),
            Some(0)
        );
        // Never the other way round: a billing word does not name a refund-only menu.
        let refunds_only: Vec<Vec<String>> = vec![vec!["refund".into()], vec!["delivery".into()]];
        assert_eq!(named(&refunds_only, "my statement is wrong"), None);
        let zh: Vec<Vec<String>> = [&["账单"][..], &["故障"]]
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(named(&zh, "我要退款").map(|f| f.0), Some(0));
    }

    #[test]
    fn a_plan_can_turn_synonyms_off() {
        let m = menu();
        let refs: Vec<&[String]> = m.iter().map(|c| &c[..]).collect();
        let off = MatchConfig {
            synonyms: false,
            ..MatchConfig::default()
        };
        assert!(builtin_synonyms_of(&refs, off)
            .iter()
            .all(|(s, _)| s.is_empty()));
    }
}
