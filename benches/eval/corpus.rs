//! The corpus (`eval/corpus.toml`): what callers say and what should happen, read once into
//! typed items, then expanded into clips — each item spoken `takes` times with voice settings
//! drawn from a seeded generator, so every run says the same things the same way.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

/// A line of the demo: which plan answers, and in which language the clip is spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English, `sip:support@`.
    En,
    /// Mandarin, `sip:support_zh@`.
    Zh,
}

impl Lang {
    /// Both, in report order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The SIP user (and dialplan) that answers this language.
    pub fn line(self) -> &'static str {
        match self {
            Lang::En => "support",
            Lang::Zh => "support_zh",
        }
    }

    /// The folder of its prompts under `prompts/`.
    pub fn prompt_dir(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::En => "EN",
            Lang::Zh => "ZH",
        })
    }
}

/// What kind of utterance an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Asks for a person.
    Request,
    /// Mentions a person only to say no.
    Negated,
    /// Mentions a person who said something.
    Reported,
    /// An ordinary answer to the menu.
    Answer,
    /// Fillers, pauses, confusion, silence.
    Hesitant,
}

impl Category {
    /// All, in report order.
    pub const ALL: [Category; 5] = [
        Category::Request,
        Category::Negated,
        Category::Reported,
        Category::Answer,
        Category::Hesitant,
    ];
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Category::Request => "request",
            Category::Negated => "negated",
            Category::Reported => "reported",
            Category::Answer => "answer",
            Category::Hesitant => "hesitant",
        })
    }
}

/// What the product should do with an item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Hand the caller to a person for this reason (`human_request`).
    Escalate(String),
    /// Hand the caller to a person for any caller-side reason (hesitation, retries, request).
    Person,
    /// Answer the caller: reach one of these nodes, without a hand-over.
    Node(Vec<String>),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Escalate(r) => write!(f, "escalate ({r})"),
            Expect::Person => f.write_str("a person within 2 turns"),
            Expect::Node(n) => write!(f, "node {}", n.join(" | ")),
        }
    }
}

/// One piece of a clip: words to speak, or a pause.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Words for espeak-ng.
    Words(String),
    /// Silence, seconds.
    Pause(f64),
}

/// One corpus item, checked.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub lang: Lang,
    pub category: Category,
    /// What is said (Hanzi for Mandarin), for the report.
    pub text: String,
    /// What espeak-ng reads, with pauses.
    pub pieces: Vec<Piece>,
    pub expect: Expect,
}

/// One take of an item: the voice it is spoken with.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Voice {
    /// espeak-ng `-v` (language voice plus `+variant`).
    pub name: String,
    /// `-s`, words per minute.
    pub rate: u32,
    /// `-p`, 0–99.
    pub pitch: u32,
    /// Line noise mixed in: (`white` | `pink`, SNR in dB).
    pub noise: Option<(String, f64)>,
}

impl fmt::Display for Voice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -s {} -p {}", self.name, self.rate, self.pitch)?;
        if let Some((kind, snr)) = &self.noise {
            write!(f, ", {kind} noise {snr:.0} dB")?;
        }
        Ok(())
    }
}

/// One clip to play: an item and a take.
#[derive(Debug, Clone)]
pub struct Clip {
    /// `<item id>#<take>`.
    pub id: String,
    pub item: Item,
    pub voice: Voice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    seed: u64,
    takes: usize,
    item: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    lang: Lang,
    category: Category,
    text: String,
    say: Option<String>,
    escalate: Option<String>,
    node: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The corpus: items and how to expand them.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub seed: u64,
    pub takes: usize,
    pub items: Vec<Item>,
}

impl Corpus {
    /// Reads and checks `path`: unique ids, Mandarin with pinyin, one expectation each and the
    /// one its category calls for.
    pub fn load(path: &Path) -> anyhow::Result<Corpus> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: File = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        anyhow::ensure!(
            file.takes >= 1,
            "{}: takes must be at least 1",
            path.display()
        );
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        for raw in file.item {
            let where_ = format!("{}: item {}", path.display(), raw.id);
            anyhow::ensure!(seen.insert(raw.id.clone()), "{where_}: duplicate id");
            items.push(check(raw).context(where_)?);
        }
        Ok(Corpus {
            seed: file.seed,
            takes: file.takes,
            items,
        })
    }

    /// Every clip: each item × `takes`, voices drawn from the seed (the same every run).
    pub fn clips(&self) -> Vec<Clip> {
        let mut out = Vec::new();
        for item in &self.items {
            for take in 0..self.takes {
                let mut rng = Rng::new(self.seed ^ hash(&item.id) ^ (take as u64 + 1));
                out.push(Clip {
                    id: format!("{}#{}", item.id, take + 1),
                    voice: draw_voice(&mut rng, item),
                    item: item.clone(),
                });
            }
        }
        out
    }
}

fn check(raw: RawItem) -> anyhow::Result<Item> {
    let say = match (raw.lang, raw.say) {
        (Lang::Zh, Some(s)) => s,
        (Lang::Zh, None) => bail!("a Mandarin item needs `say` (tone-numbered pinyin)"),
        (Lang::En, Some(_)) => bail!("`say` is for Mandarin pinyin; English is spoken from `text`"),
        (Lang::En, None) => raw.text.clone(),
    };
    let pieces = parse_pieces(&say)?;
    let expect = match (raw.escalate, raw.node) {
        (Some(r), None) if r == "person" => Expect::Person,
        (Some(r), None) => Expect::Escalate(r),
        (None, Some(OneOrMany::One(n))) => Expect::Node(vec![n]),
        (None, Some(OneOrMany::Many(n))) if !n.is_empty() => Expect::Node(n),
        _ => bail!("give exactly one of `escalate` or `node`"),
    };
    let fits = match raw.category {
        Category::Request => matches!(&expect, Expect::Escalate(r) if r == "human_request"),
        Category::Hesitant => expect == Expect::Person,
        Category::Negated | Category::Reported | Category::Answer => {
            matches!(expect, Expect::Node(_))
        }
    };
    anyhow::ensure!(
        fits,
        "category {} expects {}",
        raw.category,
        match raw.category {
            Category::Request => "escalate = \"human_request\"",
            Category::Hesitant => "escalate = \"person\"",
            _ => "node = …",
        }
    );
    if raw.category != Category::Hesitant {
        anyhow::ensure!(
            pieces.iter().any(|p| matches!(p, Piece::Words(_))),
            "only hesitant callers may say nothing"
        );
    }
    Ok(Item {
        id: raw.id,
        lang: raw.lang,
        category: raw.category,
        text: raw.text,
        pieces,
        expect,
    })
}

/// `um <1.5> uh` → words, a 1.5 s pause, words.
pub fn parse_pieces(s: &str) -> anyhow::Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(open) => {
                push_words(&mut out, &rest[..open]);
                let close = rest[open..]
                    .find('>')
                    .with_context(|| format!("unclosed `<` in {s:?}"))?
                    + open;
                let secs: f64 = rest[open + 1..close]
                    .trim()
                    .parse()
                    .with_context(|| format!("pause `{}` in {s:?}", &rest[open..=close]))?;
                anyhow::ensure!(
                    (0.0..=30.0).contains(&secs),
                    "pause of {secs} s in {s:?}: 0 to 30"
                );
                out.push(Piece::Pause(secs));
                rest = &rest[close + 1..];
            }
            None => {
                push_words(&mut out, rest);
                rest = "";
            }
        }
    }
    anyhow::ensure!(!out.is_empty(), "nothing to say");
    Ok(out)
}

fn push_words(out: &mut Vec<Piece>, s: &str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(Piece::Words(s.to_string()));
    }
}

/// English voices: accents of `espeak-ng --voices=en`.
const EN_VOICES: [&str; 7] = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-us-nyc",
    "en-gb-x-gbcwmd",
];
/// Variants (`espeak-ng --voices=variant`): none, female and male timbres, an old man.
const VARIANTS: [&str; 7] = ["", "+f3", "+m3", "+f2", "+m1", "+f4", "+grandpa"];

fn draw_voice(rng: &mut Rng, item: &Item) -> Voice {
    let base = match item.lang {
        Lang::En => *rng.pick(&EN_VOICES),
        Lang::Zh => "cmn-latn-pinyin",
    };
    let variant = *rng.pick(&VARIANTS);
    // Hesitant callers speak slowly; the others anywhere from slow to brisk.
    let rate = match item.category {
        Category::Hesitant => rng.range(85, 100),
        _ => rng.range(110, 190),
    };
    let pitch = rng.range(30, 70);
    // About one clip in three on a noisy line.
    let noise = (rng.range(0, 99) < 33).then(|| {
        let kind = if rng.range(0, 1) == 0 {
            "white"
        } else {
            "pink"
        };
        (kind.to_string(), rng.range(15, 20) as f64)
    });
    Voice {
        name: format!("{base}{variant}"),
        rate,
        pitch,
        noise,
    }
}

/// FNV-1a of a string: a stable seed per item.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// splitmix64: small, seeded, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }

    /// A uniform float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[(self.next() % from.len() as u64) as usize]
    }
}
