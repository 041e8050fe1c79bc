//! The caller script: one caller action a line.
//!
//! ```text
//! # comment
//! say billing                     # answer when asked (1 s after the question ends)
//! after 4 say um [3s] uh I don't understand   # 4 s of silence first, a 3 s pause inside
//! rate 1.5 say I would like to pay my bill    # speaks at 1.5 syllables/s (default 4)
//! rising say billing                          # the voice rises at the end, like a question
//! dtmf 1                          # keys, when asked
//! during dtmf 0                   # keys while the current prompt still plays (barge-in)
//! silence 8                       # say nothing for 8 s
//! fault asr model crashed         # inject a fault (asr | media | dialplan)
//! hangup
//! ```

use crate::engine::FaultKind;
use std::time::Duration;

/// When the caller acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// This long after the line starts waiting for an answer.
    After(Duration),
    /// Half a second into the prompt playing now (or at once if none plays).
    During,
}

/// One caller action.
#[derive(Debug, Clone, PartialEq)]
pub enum CallerAction {
    /// Speak. `segments` are the words between pauses; `pauses` the pauses between them.
    Say {
        /// Full text without pause marks.
        text: String,
        /// Word groups between pauses.
        segments: Vec<String>,
        /// Pauses between groups.
        pauses: Vec<Duration>,
        /// Speaking rate in syllables per second.
        rate: f64,
        /// Said with the voice rising at the end, like a question (`rising say …`).
        rising: bool,
    },
    /// Press keys.
    Dtmf(Vec<char>),
    /// Stay silent this long.
    Silence(Duration),
    /// Something breaks.
    Fault(FaultKind, String),
    /// Hang up.
    Hangup,
    /// The endpoint of the pending lookup answers (`lookup {"balance": "12.50"}`) or fails
    /// (`lookup fail 503`). Without such a line a lookup times out.
    LookupAnswer(Result<serde_json::Value, String>),
}

/// A parsed script line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptLine {
    /// 1-based line number in the script.
    pub line: usize,
    /// When.
    pub when: When,
    /// What.
    pub action: CallerAction,
}

/// A script line that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message} (hint: {hint})")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

const DEFAULT_RATE: f64 = 4.0;
const DEFAULT_SAY_AFTER: f64 = 1.0;
const DEFAULT_DTMF_AFTER: f64 = 0.8;

/// Parses a whole script; blank lines and `#` comments are skipped.
pub fn parse_script(src: &str) -> Result<Vec<ScriptLine>, ScriptError> {
    src.lines()
        .enumerate()
        .filter_map(|(i, l)| parse_line(l, i + 1).transpose())
        .collect()
}

/// Parses one line; `Ok(None)` for blank lines and comments.
pub fn parse_line(raw: &str, line: usize) -> Result<Option<ScriptLine>, ScriptError> {
    let err = |message: String, hint: &str| ScriptError {
        line,
        message,
        hint: hint.to_string(),
    };
    let text = strip_comment(raw).trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut when = None;
    let mut rate = DEFAULT_RATE;
    let mut rising = false;
    loop {
        match words.first().copied() {
            Some("rising") => {
                rising = true;
                words.remove(0);
            }
            Some("after") => {
                let secs = seconds(words.get(1).copied()).ok_or_else(|| {
                    err(
                        "`after` needs a number of seconds".into(),
                        "after 4 say hello",
                    )
                })?;
                when = Some(When::After(secs));
                words.drain(..2);
            }
            Some("during") => {
                when = Some(When::During);
                words.remove(0);
            }
            Some("rate") => {
                rate = words
                    .get(1)
                    .and_then(|w| w.parse::<f64>().ok())
                    .filter(|r| *r > 0.1 && *r < 20.0)
                    .ok_or_else(|| {
                        err(
                            "`rate` needs syllables per second".into(),
                            "rate 1.5 say hello",
                        )
                    })?;
                words.drain(..2);
            }
            _ => break,
        }
    }
    let verb = words.first().copied().unwrap_or("");
    let rest = &words[words.len().min(1)..];
    let default_after = |s: f64| When::After(Duration::from_secs_f64(s));
    let action = match verb {
        "say" => {
            let (segments, pauses) =
                split_pauses(rest).map_err(|m| err(m, "say um [2s] billing"))?;
            if segments.iter().all(|s| s.is_empty()) {
                return Err(err("`say` needs words".into(), "say billing"));
            }
            when.get_or_insert(default_after(DEFAULT_SAY_AFTER));
            CallerAction::Say {
                text: segments.join(" ").trim().to_string(),
                segments,
                pauses,
                rate,
                rising,
            }
        }
        "dtmf" => {
            let keys: Vec<char> = rest.concat().chars().collect();
            if keys.is_empty()
                || !keys
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
            {
                return Err(err(
                    format!("`{}` is not a key sequence", rest.concat()),
                    "dtmf 1 (keys 0-9, * and #)",
                ));
            }
            when.get_or_insert(default_after(DEFAULT_DTMF_AFTER));
            CallerAction::Dtmf(keys)
        }
        "silence" => {
            let secs = seconds(rest.first().copied())
                .ok_or_else(|| err("`silence` needs a number of seconds".into(), "silence 8"))?;
            when.get_or_insert(default_after(0.0));
            CallerAction::Silence(secs)
        }
        "hangup" => {
            when.get_or_insert(default_after(0.5));
            CallerAction::Hangup
        }
        "lookup" => {
            let rest_text = text.split_once("lookup").map_or("", |x| x.1).trim();
            let result: Result<serde_json::Value, String> = match rest_text.strip_prefix("fail") {
                Some(why) => Err(why.trim().to_string()),
                None => Ok(serde_json::from_str(rest_text).map_err(|e| {
                    err(
                        format!("`lookup` needs JSON or `fail why`: {e}"),
                        "lookup {\"balance\": \"12.50\"}  or  lookup fail 503",
                    )
                })?),
            };
            when.get_or_insert(default_after(0.3));
            CallerAction::LookupAnswer(result)
        }
        "fault" => {
            let kind = match rest.first().copied() {
                Some("asr") => FaultKind::Asr,
                Some("media") => FaultKind::Media,
                Some("dialplan") => FaultKind::Dialplan,
                _ => {
                    return Err(err(
                        "`fault` needs a kind".into(),
                        "fault asr model crashed (kinds: asr, media, dialplan)",
                    ))
                }
            };
            when.get_or_insert(When::During);
            CallerAction::Fault(kind, rest[1..].join(" "))
        }
        other => return Err(err(
            format!("unknown action `{other}`"),
            "use say, dtmf, silence, hangup, lookup or fault, optionally after N / during / rate R first",
        )),
    };
    Ok(Some(ScriptLine {
        line,
        when: when.unwrap_or(When::During),
        action,
    }))
}

/// The line without its comment: `#` at the start of a line or after a space, unless it is a
/// key of a `dtmf` line (`dtmf 1234#`, `dtmf #`), where `#` is the hash key.
fn strip_comment(raw: &str) -> &str {
    let t = raw.trim_start();
    if t.starts_with('#') {
        return "";
    }
    let mut prev_space = false;
    for (i, c) in raw.char_indices() {
        if c == '#' && prev_space {
            let rest = &raw[i + 1..];
            // `dtmf 12 #` or `dtmf #`: the key, when the line is a dtmf line and the # is
            // followed by nothing or by more keys.
            let is_key = raw.split_whitespace().any(|w| w == "dtmf")
                && rest
                    .chars()
                    .next()
                    .is_none_or(|n| n.is_ascii_digit() || n == '*' || n == '#');
            if !is_key {
                return &raw[..i];
            }
        }
        prev_space = c.is_whitespace();
    }
    raw
}

fn seconds(w: Option<&str>) -> Option<Duration> {
    let s = w?.trim_end_matches('s').parse::<f64>().ok()?;
    (s.is_finite() && (0.0..=3600.0).contains(&s)).then(|| Duration::from_secs_f64(s))
}

/// Splits `um [3s] uh I don't understand` into word groups and the pauses between them.
fn split_pauses(words: &[&str]) -> Result<(Vec<String>, Vec<Duration>), String> {
    let mut segments = vec![String::new()];
    let mut pauses = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(inner) = w.strip_prefix('[') {
            // Accept [3s], [3], and [pause 3] / [pause 3s].
            let (mark, used) = if inner == "pause" {
                (words.get(i + 1).map(|n| n.trim_end_matches(']')), 2)
            } else {
                (Some(inner.trim_end_matches(']')), 1)
            };
            let d = seconds(mark).ok_or_else(|| format!("bad pause mark `{w}`"))?;
            pauses.push(d);
            segments.push(String::new());
            i += used;
            continue;
        }
        let seg = segments.last_mut().expect("segments starts non-empty");
        if !seg.is_empty() {
            seg.push(' ');
        }
        seg.push_str(w);
        i += 1;
    }
    Ok((segments, pauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_delays_pauses_and_rate() {
        let l = parse_line("after 4 rate 1.5 say um [3s] uh I don't understand", 7)
            .unwrap()
            .unwrap();
        assert_eq!(l.when, When::After(Duration::from_secs(4)));
        let CallerAction::Say {
            text,
            pauses,
            rate,
            segments,
            ..
        } = l.action
        else {
            panic!()
        };
        assert_eq!(text, "um uh I don't understand");
        assert_eq!(segments.len(), 2);
        assert_eq!(pauses, vec![Duration::from_secs(3)]);
        assert_eq!(rate, 1.5);
    }

    #[test]
    fn reports_bad_lines_with_their_number() {
        let e = parse_script("say hello\n\nshout hi\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("shout"));
        assert!(parse_line("dtmf x", 1).is_err());
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(parse_script("# hi\n\n  # more\n").unwrap(), vec![]);
    }

    #[test]
    fn hash_is_a_key_in_dtmf_lines_and_a_comment_elsewhere() {
        let keys = |l: &str| match parse_line(l, 1).unwrap().unwrap().action {
            CallerAction::Dtmf(k) => k.into_iter().collect::<String>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(keys("dtmf 1234#"), "1234#");
        assert_eq!(keys("dtmf #"), "#");
        assert_eq!(keys("dtmf 12 # the account"), "12");
        let l = parse_line("say billing # the menu", 1).unwrap().unwrap();
        assert!(matches!(l.action, CallerAction::Say { ref text, .. } if text == "billing"));
    }
}
