//! The judge: each clip's call against what its item expects, the five figures per language,
//! and the confusion list (every clip that went wrong, with what whisper heard and what the
//! call did). Nothing here talks to the server.

use crate::call::Observed;
use crate::corpus::{Category, Clip, Expect, Lang};
use serde::Serialize;
use std::fmt::Write;

/// Reasons that count as "a person" for a hesitant caller (a fault is the system's doing).
const PERSON_REASONS: [&str; 3] = ["human_request", "hesitation", "retries"];
/// A hesitant caller should reach a person within this many turns.
const HESITANT_TURNS: usize = 2;

/// One clip's call, or why the harness could not place it.
pub struct Run {
    pub clip: Clip,
    pub result: Result<Observed, String>,
}

/// A clip judged.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    pub id: String,
    pub lang: Lang,
    pub category: Category,
    pub text: String,
    pub voice: String,
    pub expect: String,
    /// `None`: the harness failed on this clip (not counted).
    pub ok: Option<bool>,
    /// Whether the caller was handed to a person because of what they said (not after a
    /// no-input timeout of the silence that follows every clip).
    pub escalated: bool,
    /// What happened, in words.
    pub what: String,
    /// What the recognizer returned, turn by turn.
    pub heard: Vec<String>,
    /// Whether whisper wrote the words that were said (case, punctuation, spacing and
    /// traditional forms aside): a wrong outcome on an exact transcript is understanding's.
    pub transcript_exact: bool,
    pub observed: Option<Observed>,
    pub error: Option<String>,
}

/// `k` of `n`, its share and whether it meets the target.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub k: usize,
    pub n: usize,
    pub percent: Option<f64>,
    /// `>= 97` or `<= 2`.
    pub target: String,
    pub met: Option<bool>,
}

impl Figure {
    fn new(k: usize, n: usize, at_least: bool, target: f64) -> Figure {
        let percent = (n > 0).then(|| 100.0 * k as f64 / n as f64);
        Figure {
            k,
            n,
            percent,
            target: format!("{} {target}%", if at_least { "≥" } else { "≤" }),
            met: percent.map(|p| if at_least { p >= target } else { p <= target }),
        }
    }

    fn cell(&self) -> String {
        match (self.percent, self.met) {
            (Some(p), Some(m)) => format!(
                "{:>4}/{:<4}{:>6.1}% {}",
                self.k,
                self.n,
                p,
                if m { "ok  " } else { "MISS" }
            ),
            _ => format!("{:>4}/{:<4}{:>7} {}", self.k, self.n, "–", "    "),
        }
    }
}

/// The figures of one language.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub first_ask_recall: Figure,
    /// Requests that reached a person on the first or the second ask.
    pub two_ask_recall: Figure,
    pub false_escalation: Figure,
    pub mention_escalation: Figure,
    pub routing_accuracy: Figure,
    pub hesitant_to_person: Figure,
    /// Negated and reported mentions that also reached their node (not a target).
    pub mention_routing: Figure,
    /// Requests, mentions and answers (not hesitant callers) whose words whisper wrote exactly
    /// (not a target).
    pub transcript_exact: Figure,
    /// Clips the harness could not place (not counted above).
    pub harness_errors: usize,
    /// Calls handed over with reason `fault` (counted above; a loaded machine shows here).
    pub fault_escalations: usize,
}

/// Judges one clip.
pub fn judge(run: &Run) -> Judged {
    let c = &run.clip;
    let mut j = Judged {
        id: c.id.clone(),
        lang: c.item.lang,
        category: c.item.category,
        text: c.item.text.clone(),
        voice: c.voice.to_string(),
        expect: c.item.expect.to_string(),
        ok: None,
        escalated: false,
        what: String::new(),
        heard: Vec::new(),
        transcript_exact: false,
        observed: None,
        error: None,
    };
    let o = match &run.result {
        Ok(o) => o,
        Err(e) => {
            j.what = format!("harness error: {e}");
            j.error = Some(e.clone());
            return j;
        }
    };
    let reason = o.reason.as_deref();
    j.escalated = reason.is_some() && !o.no_input_before_transfer;
    j.what = happened(o);
    j.heard = o
        .heard
        .iter()
        .map(|(t, i)| format!("{t:?} → {i}"))
        .collect();
    if j.heard.is_empty() {
        j.heard = o.transcript.iter().map(|t| format!("{t:?}")).collect();
    }
    j.transcript_exact = words(&o.transcript.join(" ")) == words(&c.item.text);
    j.ok = Some(match &c.item.expect {
        Expect::Escalate(want) => {
            // On that first utterance: the first one heard asked for a person, or it was the
            // only one before the hand-over.
            let first_asked = o
                .heard
                .first()
                .is_some_and(|(_, i)| i.starts_with("asks for a person"));
            j.escalated
                && reason == Some(want.as_str())
                && (o.heard_before_transfer <= 1 || first_asked)
        }
        Expect::Person => {
            reason.is_some_and(|r| PERSON_REASONS.contains(&r))
                && o.turns_before_transfer <= HESITANT_TURNS
        }
        Expect::Node(want) => !j.escalated && reached(o, want),
    });
    j.observed = Some(o.clone());
    j
}

/// Text reduced to its words: pauses (`<1.5>`) out, simplified forms, lower case, letters and
/// digits only, Han characters without spaces between them.
fn words(s: &str) -> String {
    let mut no_pauses = String::new();
    let mut depth = 0;
    for ch in s.chars() {
        match ch {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => no_pauses.push(ch),
            _ => {}
        }
    }
    let simple = fast2s::convert(&no_pauses).to_lowercase();
    let kept: String = simple
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut out = String::new();
    for w in kept.split_whitespace() {
        let han = |c: Option<char>| c.is_some_and(|c| !c.is_ascii());
        let joins_han = han(out.chars().last()) && han(w.chars().next());
        if !(out.is_empty() || joins_han) {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// A request that reached a person by the caller's second turn: said twice (the first not
/// understood) and handed over for it with no silence between, or named a person, was asked
/// "Do you want to talk to a person?" and handed over on the silence that followed (a caller's
/// "yes").
fn reached_person_by_second_ask(j: &Judged) -> bool {
    let Some(o) = &j.observed else {
        return false;
    };
    let person = o
        .reason
        .as_deref()
        .is_some_and(|r| PERSON_REASONS.contains(&r));
    let confirmed = o.reason.as_deref() == Some("human_request")
        && o.heard_before_transfer == 1
        && o.heard
            .first()
            .is_some_and(|(_, i)| i.starts_with("names a person"));
    person && ((!o.no_input_before_transfer && o.heard_before_transfer <= 2) || confirmed)
}

fn reached(o: &Observed, want: &[String]) -> bool {
    o.after.iter().any(|n| want.contains(n))
}

fn happened(o: &Observed) -> String {
    let path = if o.after.is_empty() {
        String::new()
    } else {
        format!(" via {}", o.after.join(" → "))
    };
    match (&o.reason, o.no_input_before_transfer) {
        (Some(r), false) => format!(
            "escalated ({r}) after {} turn(s){path}",
            o.turns_before_transfer
        ),
        (Some(r), true) => format!(
            "escalated ({r}) after {} turn(s), a no-input among them{path}",
            o.turns_before_transfer
        ),
        (None, _) if !o.after.is_empty() => format!("reached {}", o.after.join(" → ")),
        (None, _) if o.heard.is_empty() => "stayed at the menu, nothing heard".into(),
        (None, _) => "stayed at the menu (not understood)".into(),
    }
}

/// The figures of `lang` over judged clips.
pub fn figures(all: &[Judged], lang: Lang) -> Figures {
    let of = |cats: &[Category]| -> Vec<&Judged> {
        all.iter()
            .filter(|j| j.lang == lang && cats.contains(&j.category) && j.ok.is_some())
            .collect()
    };
    let count = |v: &[&Judged], f: &dyn Fn(&Judged) -> bool| v.iter().filter(|j| f(j)).count();
    let ok = |j: &Judged| j.ok == Some(true);
    let requests = of(&[Category::Request]);
    let answers = of(&[Category::Answer]);
    let mentions = of(&[Category::Negated, Category::Reported]);
    let hesitant = of(&[Category::Hesitant]);
    Figures {
        first_ask_recall: Figure::new(count(&requests, &ok), requests.len(), true, 97.0),
        two_ask_recall: Figure::new(
            count(&requests, &|j| ok(j) || reached_person_by_second_ask(j)),
            requests.len(),
            true,
            100.0,
        ),
        false_escalation: Figure::new(count(&answers, &|j| j.escalated), answers.len(), false, 2.0),
        mention_escalation: Figure::new(
            count(&mentions, &|j| j.escalated),
            mentions.len(),
            false,
            10.0,
        ),
        routing_accuracy: Figure::new(count(&answers, &ok), answers.len(), true, 90.0),
        hesitant_to_person: Figure::new(count(&hesitant, &ok), hesitant.len(), true, 90.0),
        mention_routing: Figure::new(count(&mentions, &ok), mentions.len(), true, 0.0),
        transcript_exact: {
            let spoken = of(&[
                Category::Request,
                Category::Negated,
                Category::Reported,
                Category::Answer,
            ]);
            Figure::new(
                count(&spoken, &|j| j.transcript_exact),
                spoken.len(),
                true,
                0.0,
            )
        },
        harness_errors: all
            .iter()
            .filter(|j| j.lang == lang && j.ok.is_none())
            .count(),
        fault_escalations: all
            .iter()
            .filter(|j| {
                j.lang == lang
                    && j.observed
                        .as_ref()
                        .is_some_and(|o| o.reason.as_deref() == Some("fault"))
            })
            .count(),
    }
}

/// The table of both languages.
pub fn table(en: &Figures, zh: &Figures) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:<44} {:<22} {:<22} target", "", "EN", "ZH");
    let rows: [(&str, &Figure, &Figure); 8] = [
        (
            "first-ask recall of requests for a person",
            &en.first_ask_recall,
            &zh.first_ask_recall,
        ),
        (
            "requests to a person within two asks",
            &en.two_ask_recall,
            &zh.two_ask_recall,
        ),
        (
            "false escalation of ordinary answers",
            &en.false_escalation,
            &zh.false_escalation,
        ),
        (
            "escalation of negated/reported mentions",
            &en.mention_escalation,
            &zh.mention_escalation,
        ),
        (
            "routing accuracy of ordinary answers",
            &en.routing_accuracy,
            &zh.routing_accuracy,
        ),
        (
            "hesitant callers to a person in ≤ 2 turns",
            &en.hesitant_to_person,
            &zh.hesitant_to_person,
        ),
        (
            "(mentions answered at the right node)",
            &en.mention_routing,
            &zh.mention_routing,
        ),
        (
            "(whisper wrote the words exactly)",
            &en.transcript_exact,
            &zh.transcript_exact,
        ),
    ];
    for (name, e, z) in rows {
        let target = if name.starts_with('(') {
            "–".to_string()
        } else {
            e.target.clone()
        };
        let (ec, zc) = if name.starts_with('(') {
            (plain(e), plain(z))
        } else {
            (e.cell(), z.cell())
        };
        let _ = writeln!(s, "{name:<44} {ec:<22} {zc:<22} {target}");
    }
    let _ = writeln!(
        s,
        "{:<44} {:<22} {:<22}",
        "harness errors (not counted)", en.harness_errors, zh.harness_errors
    );
    let _ = writeln!(
        s,
        "{:<44} {:<22} {:<22}",
        "hand-overs for a fault (counted)", en.fault_escalations, zh.fault_escalations
    );
    s
}

fn plain(f: &Figure) -> String {
    match f.percent {
        Some(p) => format!("{:>4}/{:<4}{:>6.1}%", f.k, f.n, p),
        None => format!("{:>4}/{:<4}{:>7}", f.k, f.n, "–"),
    }
}

/// How the figures are counted, printed under the table.
pub const DEFINITIONS: &str = "\
counted: a request is recalled when the call is handed over with reason human_request on its first utterance;
a request left at the menu not understood is said again once the question has been asked again, and reaches a
person within two asks when that second utterance hands the call over (any caller reason, no silence between),
or when the first named a person and the confirmation question was answered by silence;
an answer or mention is escalated when the call is handed to a person because of what was said (not after a
no-input timeout in the silence that follows every clip), routed when it reached its node without that;
a hesitant caller's turns are the utterances and no-input timeouts the server saw before the hand-over
(reasons human_request, hesitation or retries). Harness errors are left out of every figure. \"exact\": whisper
wrote the words said (case, punctuation, spaces, traditional forms aside), so a miss there is understanding's.
";

/// Every clip that went wrong (or could not be placed), by language and category.
pub fn confusion(all: &[Judged]) -> String {
    let mut s = String::new();
    let mut wrong: Vec<&Judged> = all.iter().filter(|j| j.ok != Some(true)).collect();
    wrong.sort_by(|a, b| {
        (a.lang as u8, a.category as u8, &a.id).cmp(&(b.lang as u8, b.category as u8, &b.id))
    });
    let _ = writeln!(s, "confusion list: {} of {} clips", wrong.len(), all.len());
    for j in wrong {
        let _ = writeln!(
            s,
            "[{} {}] {}  {:?}  ({})",
            j.lang, j.category, j.id, j.text, j.voice
        );
        let _ = writeln!(s, "    expected {}; got: {}", j.expect, j.what);
        let heard = if j.heard.is_empty() {
            "(nothing)".to_string()
        } else {
            j.heard.join(" | ")
        };
        let exact = if j.transcript_exact && j.category != Category::Hesitant {
            "  [exact: an understanding miss]"
        } else {
            ""
        };
        let _ = writeln!(s, "    whisper heard: {heard}{exact}");
    }
    s
}
