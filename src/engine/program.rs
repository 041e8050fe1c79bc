//! A dialplan prepared for running: phrase matchers compiled once, shared by every call on it.

use super::understand::Lexicon;
use crate::dialplan::{Dialplan, NodeId, NodeKind};
use std::collections::HashMap;

/// A validated plan plus what calls need precomputed: compiled phrase sets, ASR hints per node
/// and the prompt texts (for transcripts). Build once per plan version and share it in an `Arc`.
#[derive(Debug)]
pub struct Program {
    /// The plan.
    pub plan: Dialplan,
    pub(crate) lexicon: Lexicon,
    hints: Vec<Vec<String>>,
    /// Per node, the phrases [`Program::boost`] gives (computed once per plan).
    boost: Vec<Vec<String>>,
    prompt_texts: HashMap<String, String>,
    /// Prompt texts of the other languages the plan switches to.
    other_texts: Vec<(crate::dialplan::Language, HashMap<String, String>)>,
}

impl Program {
    /// Prepares `plan`; `prompt_texts` maps prompt names to what they say (may be empty).
    pub fn new(plan: Dialplan, prompt_texts: HashMap<String, String>) -> Self {
        let lexicon = Lexicon::new(&plan);
        let hints: Vec<Vec<String>> = plan
            .nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Ask { choices, .. } => choices
                    .iter()
                    .flat_map(|c| c.words.iter().cloned())
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        let boost = (0..plan.nodes.len())
            .map(|n| boost_at(&plan, &lexicon, &hints, NodeId(n)))
            .collect();
        Program {
            plan,
            lexicon,
            hints,
            boost,
            prompt_texts,
            other_texts: Vec::new(),
        }
    }

    /// Adds the prompt texts of another language the plan switches to (a language node).
    pub fn with_texts(
        mut self,
        language: crate::dialplan::Language,
        texts: HashMap<String, String>,
    ) -> Self {
        if language != self.plan.language {
            self.other_texts.push((language, texts));
        }
        self
    }

    /// The text of a prompt with placeholders ("Your balance is {balance:money} euros") in
    /// `language`: it is spoken with the call's values filled in (see [`crate::text::spoken`]).
    pub fn template_in(&self, language: crate::dialplan::Language, prompt: &str) -> Option<&str> {
        let text = if language == self.plan.language {
            self.prompt_texts.get(prompt)
        } else {
            self.other_texts
                .iter()
                .find(|(l, _)| *l == language)
                .and_then(|(_, t)| t.get(prompt))
        }?;
        text.contains('{').then_some(text.as_str())
    }

    /// What a prompt says in `language`, or its name in brackets when its text is unknown.
    pub fn prompt_text_in(&self, language: crate::dialplan::Language, prompt: &str) -> String {
        if language == self.plan.language {
            return self.prompt_text(prompt);
        }
        self.other_texts
            .iter()
            .find(|(l, _)| *l == language)
            .and_then(|(_, t)| t.get(prompt))
            .map_or_else(|| format!("[{prompt}]"), String::clone)
    }

    /// What a prompt says, or its name in brackets when its text is unknown.
    pub fn prompt_text(&self, prompt: &str) -> String {
        self.known_prompt_text(prompt)
            .map_or_else(|| format!("[{prompt}]"), str::to_string)
    }

    /// What a prompt says, when its text is known.
    pub fn known_prompt_text(&self, prompt: &str) -> Option<&str> {
        self.prompt_texts.get(prompt).map(String::as_str)
    }

    /// Words to prime the recogniser with while the caller is asked whether they want a person.
    pub fn confirm_hints(&self) -> Vec<String> {
        let zh = self.plan.language == crate::dialplan::Language::Zh;
        let b = crate::text::builtin();
        b.yes
            .iter()
            .chain(&b.no)
            .filter(|w| w.chars().any(|c| c as u32 >= 0x3400) == zh)
            .cloned()
            .collect()
    }

    /// Phrases to favour while recognising at a node (see [`crate::asr::Boost`]): its
    /// choices, the choices of the menus they lead to (an answer may name a deeper choice),
    /// and every name of a person in the plan's language.
    ///
    /// Nothing for Mandarin plans: measured on the eval corpus's requests for a person, boosting
    /// made whisper base start Mandarin answers with a favoured character and drift into
    /// traditional forms and loops (16 of 28 recognised instead of 20). The recogniser uses
    /// these only when `[asr] boost_logit` is above 0 (off by default; see the README).
    pub fn boost(&self, node: NodeId) -> Vec<String> {
        self.boost[node.0].clone()
    }

    /// Words to prime the recogniser with at a node: its choices, then the human phrases.
    pub fn hints(&self, node: NodeId) -> Vec<String> {
        let mut h = self.hints[node.0].clone();
        h.extend(self.lexicon.human_hints(self.plan.language));
        h
    }
}

/// The phrases to favour at `node` (see [`Program::boost`]): none on a Mandarin plan.
fn boost_at(
    plan: &Dialplan,
    lexicon: &Lexicon,
    hints: &[Vec<String>],
    node: NodeId,
) -> Vec<String> {
    if plan.language == crate::dialplan::Language::Zh {
        return Vec::new();
    }
    let mut b = hints[node.0].clone();
    for n in lexicon.questions_ahead(node) {
        b.extend(hints[n.0].iter().cloned());
    }
    b.extend(lexicon.human_names(plan));
    b.sort();
    b.dedup();
    b
}
