//! The callers' words: phone-band clips made at bench time with espeak-ng and sox (never
//! committed), each with the sample where its speech ends, so a caller can stamp the moment
//! its last voiced 20 ms frame leaves.

use crate::common::{run_tool, to_phone_band};
use anyhow::Context;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// A sample louder than this (of 32 767, about −40 dBFS) is voice; espeak's pauses are
/// digital silence, so anything above the floor is speech.
const VOICED: i16 = 330;

/// The plan a clip is said to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Lang {
    /// `sip:support@` (English plan).
    En,
    /// `sip:support_zh@` (Mandarin plan).
    Zh,
}

impl Lang {
    /// The SIP user that runs this language's plan.
    pub fn user(self) -> &'static str {
        match self {
            Lang::En => "support",
            Lang::Zh => "support_zh",
        }
    }
}

/// What saying the clip asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Intent {
    /// A person (escalation reason `human_request`).
    Person,
    /// An ordinary menu answer.
    Answer,
    /// Fillers and confusion, said slowly (towards `hesitation`).
    Hesitant,
}

/// One clip: 8 kHz mono PCM and where its voice ends.
#[derive(Debug)]
pub struct Clip {
    /// Short name, for the JSON.
    pub name: String,
    /// The plan it is said to.
    pub lang: Lang,
    /// What it asks for.
    pub intent: Intent,
    /// 8 kHz signed 16-bit samples.
    pub pcm: Vec<i16>,
    /// Index of the 20 ms frame holding the last voiced sample: the end of the caller's words.
    pub last_voiced_frame: usize,
}

impl Clip {
    /// Frames the clip fills (the last one padded with silence).
    pub fn frames(&self) -> usize {
        self.pcm.len().div_ceil(FRAME)
    }

    /// Frame `i` of the clip, silence past its end.
    pub fn frame(&self, i: usize) -> [i16; FRAME] {
        let mut f = [0i16; FRAME];
        let from = (i * FRAME).min(self.pcm.len());
        let to = ((i + 1) * FRAME).min(self.pcm.len());
        f[..to - from].copy_from_slice(&self.pcm[from..to]);
        f
    }
}

/// The index of the last sample with |x| above the voice floor, `None` for a silent clip.
pub fn last_voiced_sample(pcm: &[i16]) -> Option<usize> {
    pcm.iter().rposition(|s| s.unsigned_abs() > VOICED as u16)
}

/// (name, language, intent, espeak voice, speed in words per minute, text).
type Spec = (&'static str, Lang, Intent, &'static str, u32, &'static str);

/// What the callers say. Mandarin is written in pinyin for `cmn-latn-pinyin` (DESIGN §7).
const SPECS: [Spec; 12] = [
    (
        "en_real_person",
        Lang::En,
        Intent::Person,
        "en-us",
        160,
        "I want to talk to a real person",
    ),
    (
        "en_agent",
        Lang::En,
        Intent::Person,
        "en-us",
        160,
        "Can I speak to an agent please",
    ),
    (
        "en_human",
        Lang::En,
        Intent::Person,
        "en-us",
        150,
        "Let me talk to a human",
    ),
    (
        "zh_zhuan_rengong",
        Lang::Zh,
        Intent::Person,
        "cmn-latn-pinyin",
        150,
        "wo3 yao4 zhuan3 ren2 gong1",
    ),
    (
        "zh_rengong_kefu",
        Lang::Zh,
        Intent::Person,
        "cmn-latn-pinyin",
        150,
        "qing3 gei3 wo3 ren2 gong1 ke4 fu2",
    ),
    (
        "en_billing",
        Lang::En,
        Intent::Answer,
        "en-us",
        160,
        "billing",
    ),
    (
        "en_bill_question",
        Lang::En,
        Intent::Answer,
        "en-us",
        160,
        "I have a question about my bill",
    ),
    (
        "en_technical",
        Lang::En,
        Intent::Answer,
        "en-us",
        160,
        "technical problem",
    ),
    (
        "zh_zhangdan",
        Lang::Zh,
        Intent::Answer,
        "cmn-latn-pinyin",
        150,
        "wo3 xiang3 cha2 zhang4 dan1",
    ),
    (
        "zh_guzhang",
        Lang::Zh,
        Intent::Answer,
        "cmn-latn-pinyin",
        150,
        "wo3 de wang3 luo4 gu4 zhang4 le",
    ),
    (
        "en_hesitant",
        Lang::En,
        Intent::Hesitant,
        "en-us",
        90,
        "um. uh. I don't understand. what do I do",
    ),
    (
        "zh_hesitant",
        Lang::Zh,
        Intent::Hesitant,
        "cmn-latn-pinyin",
        90,
        "en. nei4 ge4. wo3 bu4 ming2 bai2",
    ),
];

/// Makes every clip in `dir` (espeak-ng → WAV, sox → 8 kHz mono 16-bit) and loads them.
pub fn generate(dir: &Path) -> anyhow::Result<Vec<Arc<Clip>>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    SPECS
        .iter()
        .map(|&(name, lang, intent, voice, speed, text)| {
            let raw = dir.join(format!("{name}_espeak.wav"));
            let phone = dir.join(format!("{name}.wav"));
            run_tool(
                Command::new("espeak-ng")
                    .args(["-v", voice, "-s", &speed.to_string(), "-w"])
                    .arg(&raw)
                    .arg(text),
            )?;
            to_phone_band(&raw, &phone)?;
            let pcm: Vec<i16> = hound::WavReader::open(&phone)
                .with_context(|| format!("reading {}", phone.display()))?
                .samples::<i16>()
                .collect::<Result<_, _>>()?;
            let last = last_voiced_sample(&pcm)
                .with_context(|| format!("{name}: espeak-ng wrote silence"))?;
            Ok(Arc::new(Clip {
                name: name.to_string(),
                lang,
                intent,
                pcm,
                last_voiced_frame: last / FRAME,
            }))
        })
        .collect()
}
