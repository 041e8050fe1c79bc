//! A warm transfer's spoken brief: what the agent hears before they take the caller, made from
//! the hand-off context in the agent's language. Why the caller comes, where they were, their
//! own last words, whether they need time, and the two keys.

use crate::dialplan::Language;
use crate::engine::{Reason, Speaker, TransferContext};

/// The caller's words quoted in a brief, at most this many (words, or characters in Mandarin).
const QUOTE_WORDS: usize = 24;
const QUOTE_CHARS_ZH: usize = 40;

/// The brief for `ctx`, spoken in `language`.
pub fn text(ctx: &TransferContext, language: Language) -> String {
    let zh = language == Language::Zh;
    let mut parts: Vec<String> = Vec::new();
    let why = match (ctx.reason, zh) {
        (Some(Reason::HumanRequest), false) => "The caller asked for a person",
        (Some(Reason::HumanRequest), true) => "来电者要求转人工",
        (Some(Reason::ZeroOut), false) => "The caller pressed zero for a person",
        (Some(Reason::ZeroOut), true) => "来电者按了零转人工",
        (Some(Reason::Hesitation), false) => "The caller seemed unsure",
        (Some(Reason::Hesitation), true) => "来电者好像不太确定",
        (Some(Reason::Retries), false) => "The menu could not understand the caller",
        (Some(Reason::Retries), true) => "语音菜单没有听懂来电者",
        (Some(Reason::Fault), false) => "Something went wrong on the line",
        (Some(Reason::Fault), true) => "线路出了问题",
        (Some(Reason::Guard), false) => "The caller spent a long time in the menus",
        (Some(Reason::Guard), true) => "来电者在菜单里停留了很久",
        (None, false) => "A caller for the queue",
        (None, true) => "一位来电者",
    };
    let place = ctx.path.last().map(|n| n.replace('_', " "));
    parts.push(match (place, zh) {
        (Some(p), false) => format!("{why}, at {p}."),
        (Some(p), true) => format!("{why}，位置：{p}。"),
        (None, false) => format!("{why}."),
        (None, true) => format!("{why}。"),
    });
    if let Some(said) = last_words(ctx, zh) {
        parts.push(if zh {
            format!("来电者说：{said}。")
        } else {
            format!("They said: {said}.")
        });
    }
    if ctx.elderly {
        parts.push(if zh {
            "请放慢语速。".to_string()
        } else {
            "Please speak slowly.".to_string()
        });
    }
    parts.push(if zh {
        "按1接听，按2转给下一位。".to_string()
    } else {
        "Press 1 to take the call, 2 to pass it on.".to_string()
    });
    parts.join(" ")
}

/// The caller's last spoken words (not keys), cut to a short quote.
fn last_words(ctx: &TransferContext, zh: bool) -> Option<String> {
    let said = ctx
        .transcript
        .iter()
        .rev()
        .filter(|e| e.speaker == Speaker::Caller)
        .map(|e| e.text.trim())
        .find(|t| !t.is_empty() && !t.starts_with('['))?;
    let said = said.trim_end_matches(['.', '。', '!', '！', '?', '？', ',', '，']);
    Some(if zh {
        said.chars().take(QUOTE_CHARS_ZH).collect()
    } else {
        let words: Vec<&str> = said.split_whitespace().collect();
        let mut q = words[..words.len().min(QUOTE_WORDS)].join(" ");
        if words.len() > QUOTE_WORDS {
            q.push_str(" …");
        }
        q
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TranscriptEntry;

    fn entry(speaker: Speaker, text: &str) -> TranscriptEntry {
        TranscriptEntry {
            at_ms: 0,
            speaker,
            text: text.into(),
            node: "menu".into(),
        }
    }

    fn ctx() -> TransferContext {
        TransferContext {
            reason: Some(Reason::HumanRequest),
            queue: "support".into(),
            path: vec!["menu".into(), "billing_menu".into()],
            transcript: vec![
                entry(Speaker::System, "Welcome."),
                entry(Speaker::Caller, "[pressed 1]"),
                entry(Speaker::Caller, "my bill is wrong, I want a person."),
                entry(Speaker::Caller, "[pressed 0]"),
            ],
            language: Language::En,
            signals: Vec::new(),
            vars: Default::default(),
            hesitation_score: 0.0,
            elderly: false,
            elderly_reason: None,
            summary: String::new(),
            dialplan: "support".into(),
            dialplan_version: String::new(),
            handed_over: Vec::new(),
        }
    }

    #[test]
    fn english_brief_says_why_where_what_and_the_keys() {
        assert_eq!(
            text(&ctx(), Language::En),
            "The caller asked for a person, at billing menu. They said: my bill is wrong, I \
             want a person. Press 1 to take the call, 2 to pass it on."
        );
    }

    #[test]
    fn mandarin_brief_for_an_elderly_caller() {
        let mut c = ctx();
        c.reason = Some(Reason::Hesitation);
        c.elderly = true;
        c.transcript = vec![entry(Speaker::Caller, "嗯，那个，我不明白。")];
        assert_eq!(
            text(&c, Language::Zh),
            "来电者好像不太确定，位置：billing menu。 来电者说：嗯，那个，我不明白。 请放慢语速。 按1接听，按2转给下一位。"
        );
    }

    #[test]
    fn keys_only_and_long_answers() {
        let mut c = ctx();
        c.reason = Some(Reason::ZeroOut);
        c.transcript = vec![entry(Speaker::Caller, "[pressed 0]")];
        assert!(!text(&c, Language::En).contains("They said"));
        c.transcript = vec![entry(Speaker::Caller, &"word ".repeat(40))];
        let t = text(&c, Language::En);
        assert!(
            t.contains(&format!("{}…", "word ".repeat(QUOTE_WORDS))),
            "{t}"
        );
    }
}
