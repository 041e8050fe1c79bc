//! Built-in word lists (English and Mandarin), loaded from `builtin_phrases.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The built-in lists. Plans add their own words on top.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Builtin {
    /// Phrases that ask for a person.
    pub human: Vec<String>,
    /// Filler words.
    pub fillers: Vec<String>,
    /// Confusion phrases.
    pub confusion: Vec<String>,
    /// Requests to repeat the prompt.
    pub repeat: Vec<String>,
    /// Spoken forms of each key.
    pub digits: BTreeMap<String, Vec<String>>,
}

/// The built-in lists, parsed once.
pub fn builtin() -> &'static Builtin {
    static LISTS: OnceLock<Builtin> = OnceLock::new();
    LISTS.get_or_init(|| {
        toml::from_str(include_str!("builtin_phrases.toml"))
            .expect("builtin_phrases.toml is part of the binary and tested")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_lists_parse_and_cover_both_languages() {
        let b = super::builtin();
        assert!(b.human.iter().any(|p| p == "real person"));
        assert!(b.human.iter().any(|p| p == "转人工"));
        assert_eq!(b.digits.len(), 12);
    }
}
