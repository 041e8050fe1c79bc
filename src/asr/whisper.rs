//! [`Recognizer`] on whisper.cpp through whisper-rs: one loaded model shared by every call,
//! a pool of decoding states (each holds ~100 MB of buffers, so they are reused rather than
//! rebuilt per utterance), greedy decoding, one segment per utterance.

use super::boost::{filter_logits, Boost, BoostRun};
use super::doubt::{Doubt, DoubtKind};
use super::recognizer::{AsrError, RecognizeOptions, Recognizer, Segment, Transcript};
use super::window::AUDIO_CTX_MAX;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

/// Distinct (language, prompt) parameter sets kept. whisper-rs copies the language and the
/// prompt into C strings it never frees, so parameters are built once per distinct pair and
/// cloned afterwards; a dialplan has far fewer pairs than this.
const PARAMS_CACHE_LIMIT: usize = 1024;

type ParamsKey = (Option<String>, Option<String>);

/// whisper.cpp's speech recogniser with a loaded model.
pub struct WhisperRecognizer {
    ctx: WhisperContext,
    path: PathBuf,
    threads: i32,
    states: Mutex<Vec<WhisperState>>,
    params: Mutex<HashMap<ParamsKey, FullParams<'static, 'static>>>,
    /// Token sequences of boosted phrases (each spelling whisper may write), by phrase.
    boost_tokens: Mutex<HashMap<String, Vec<Vec<i32>>>>,
}

impl std::fmt::Debug for WhisperRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperRecognizer")
            .field("path", &self.path)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// Routes whisper.cpp's and ggml's log lines (model loading, per-call timings) into
/// whisper-rs's hooks, which drop them: without this every load and every utterance prints
/// dozens of lines on the server's stderr.
pub fn silence_whisper_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

impl WhisperRecognizer {
    /// Loads a ggml whisper model (as written by `humanline model install`); `threads` is the
    /// number of CPU threads each transcription uses.
    pub fn load(model: &Path, threads: i32) -> Result<WhisperRecognizer, AsrError> {
        silence_whisper_logs();
        if !model.is_file() {
            return Err(AsrError::ModelMissing {
                path: model.to_path_buf(),
            });
        }
        if threads < 1 {
            return Err(AsrError::InvalidOption(format!(
                "threads must be at least 1, not {threads}"
            )));
        }
        let load_error = |e: whisper_rs::WhisperError| AsrError::Load {
            path: model.to_path_buf(),
            message: e.to_string(),
        };
        let ctx = WhisperContext::new_with_params(model, WhisperContextParameters::default())
            .map_err(load_error)?;
        // One state up front: it allocates the compute buffers, so a model that loads but
        // cannot run fails here rather than on the first caller.
        let state = ctx.create_state().map_err(load_error)?;
        Ok(WhisperRecognizer {
            ctx,
            path: model.to_path_buf(),
            threads,
            states: Mutex::new(vec![state]),
            params: Mutex::new(HashMap::new()),
            boost_tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The model file.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    fn take_state(&self) -> Result<WhisperState, AsrError> {
        let pooled = self
            .states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match pooled {
            Some(s) => Ok(s),
            None => self
                .ctx
                .create_state()
                .map_err(|e| AsrError::Engine(e.to_string())),
        }
    }

    fn return_state(&self, state: WhisperState) {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(state);
    }

    /// Decoding parameters for a language and prompt (without the per-call window).
    fn params(&self, language: Option<&str>, prompt: Option<&str>) -> FullParams<'static, 'static> {
        let key = (language.map(str::to_string), prompt.map(str::to_string));
        let mut cache = self.params.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = cache.get(&key) {
            return p.clone();
        }
        // Beam search (5 beams) was measured on the eval corpus and not adopted: requests for a
        // person +3/36 in English, −2/28 in Mandarin, at several times the decoder's cost.
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(self.threads);
        // "auto" (and None) make whisper detect the language.
        p.set_language(Some(leak_once(language.unwrap_or("auto"))));
        if let Some(prompt) = prompt {
            p.set_initial_prompt(prompt);
        }
        // A pooled state must not carry one caller's words into the next caller's prompt.
        p.set_no_context(true);
        p.set_single_segment(true);
        p.set_no_timestamps(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        // No temperature fallback: a decode that loops ("no pain no pain…") would otherwise be
        // retried at rising temperatures and take minutes on a two-second answer. Greedy once,
        // bounded by max_tokens_for, keeps every utterance inside the call's deadline.
        p.set_temperature_inc(0.0);
        if cache.len() < PARAMS_CACHE_LIMIT {
            cache.insert(key, p.clone());
        }
        p
    }
}

/// whisper-rs ties the language to `'a`; the string is copied into a C string right away, so
/// a `'static` borrow of an owned value is only needed for the call. Languages are a fixed
/// set of short codes, interned here so that each is leaked at most once.
fn leak_once(language: &str) -> &'static str {
    static INTERNED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut interned = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = interned.iter().find(|s| **s == language) {
        return s;
    }
    let s: &'static str = Box::leak(language.to_string().into_boxed_str());
    interned.push(s);
    s
}

/// What whisper.cpp's abort callback points at: the caller's "stop now?".
type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// whisper.cpp's abort callback (asked between steps of the encoder and decoder graphs):
/// true stops the run.
///
/// # Safety
/// `data` must point at a live [`Stop`] for the whole run.
unsafe extern "C" fn stop_requested(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: the caller (`decode`) keeps the `Stop` alive across `state.full`.
    let stop = unsafe { &*(data as *const Stop) };
    stop()
}

impl Recognizer for WhisperRecognizer {
    fn transcribe(&self, pcm16k: &[f32], opts: &RecognizeOptions) -> Result<Transcript, AsrError> {
        self.run(pcm16k, opts, None)
    }

    fn transcribe_unless(
        &self,
        pcm16k: &[f32],
        opts: &RecognizeOptions,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Transcript, AsrError> {
        self.run(pcm16k, opts, Some(stop))
    }
}

impl WhisperRecognizer {
    fn run(
        &self,
        pcm16k: &[f32],
        opts: &RecognizeOptions,
        stop: Option<Stop>,
    ) -> Result<Transcript, AsrError> {
        let language = opts
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if let Some(l) = language {
            if l.contains('\0') || whisper_rs::get_lang_id(l).is_none() {
                return Err(AsrError::UnknownLanguage(l.to_string()));
            }
        }
        let audio_ctx = opts.audio_ctx.unwrap_or(0);
        if !(0..=AUDIO_CTX_MAX).contains(&audio_ctx) {
            return Err(AsrError::InvalidOption(format!(
                "audio_ctx {audio_ctx} is outside 0..={AUDIO_CTX_MAX}"
            )));
        }
        if pcm16k.is_empty() {
            return Ok(Transcript {
                text: String::new(),
                language: language.unwrap_or_default().to_string(),
                confidence: None,
                doubt: None,
                segments: Vec::new(),
            });
        }
        // The prompt comes from a dialplan: a NUL would make whisper-rs panic.
        let prompt: Option<String> = opts
            .initial_prompt
            .as_deref()
            .map(|p| p.replace('\0', " "))
            .filter(|p| !p.trim().is_empty());
        let boost = self.boost(&opts.boost, opts.boost_logit);
        let first = self.decode(pcm16k, language, prompt.as_deref(), audio_ctx, &boost, stop)?;
        // A prompt read back or a loop (repeated, or run on to the token budget) is whisper
        // leaning on its prompt: decode once more without it, and believe that only if it does
        // not do the same.
        let leaned = first.doubt.as_ref().is_some_and(Doubt::leans_on_prompt);
        if prompt.is_some() && leaned {
            let again = self.decode(pcm16k, language, None, audio_ctx, &boost, stop)?;
            if again.doubt.is_none() {
                return Ok(again);
            }
        }
        Ok(first)
    }
}

impl WhisperRecognizer {
    /// One greedy decode, its text read back with the recogniser's own doubts.
    fn decode(
        &self,
        pcm16k: &[f32],
        language: Option<&str>,
        prompt: Option<&str>,
        audio_ctx: i32,
        boost: &Boost,
        stop: Option<Stop>,
    ) -> Result<Transcript, AsrError> {
        let mut params = self.params(language, prompt);
        params.set_audio_ctx(audio_ctx);
        if let Some(stop) = &stop {
            // SAFETY: `stop` lives on this frame until after `state.full` below, the only
            // caller of the callback; the callback only reads it.
            unsafe {
                params.set_abort_callback(Some(stop_requested));
                params.set_abort_callback_user_data(stop as *const Stop as *mut std::ffi::c_void);
            }
        }
        let run = BoostRun::new(boost);
        if !boost.is_empty() {
            // SAFETY: `run` outlives `state.full` below, which is the only caller of the
            // filter; the filter takes `run`'s lock for what it writes.
            unsafe {
                params.set_filter_logits_callback(Some(filter_logits));
                params.set_filter_logits_callback_user_data(
                    &run as *const BoostRun as *mut std::ffi::c_void,
                );
            }
        }
        let budget = max_tokens_for(pcm16k.len());
        params.set_max_tokens(budget);
        let mut state = self.take_state()?;
        let result = state.full(params, pcm16k);
        let transcript = result
            .map_err(|e| match stop {
                Some(stop) if stop() => AsrError::Preempted,
                _ => AsrError::Engine(e.to_string()),
            })
            .map(|()| self.read_transcript(&state, language, prompt, &run, budget));
        // Keep the state even after a failed run: whisper resets it at the next call.
        self.return_state(state);
        transcript
    }
}

impl WhisperRecognizer {
    /// The boost for `phrases`: each phrase as whisper may spell it mid-sentence (a leading
    /// space; lower case and capitalised) and, for Mandarin, without the space.
    fn boost(&self, phrases: &[String], bonus: f32) -> Boost {
        if phrases.is_empty() || bonus <= 0.0 {
            return Boost::default();
        }
        let mut cache = self
            .boost_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut spelled = Vec::new();
        for phrase in phrases {
            if let Some(s) = cache.get(phrase) {
                spelled.push(s.clone());
                continue;
            }
            let s = self.spellings(phrase);
            if cache.len() < PARAMS_CACHE_LIMIT {
                cache.insert(phrase.clone(), s.clone());
            }
            spelled.push(s);
        }
        Boost::new(spelled, bonus)
    }

    fn spellings(&self, phrase: &str) -> Vec<Vec<i32>> {
        let phrase = phrase.trim().replace('\0', " ");
        if phrase.is_empty() {
            return Vec::new();
        }
        let mut forms = vec![format!(" {phrase}")];
        let mut chars = phrase.chars();
        if let Some(first) = chars.next() {
            if first.is_alphabetic() && !first.is_uppercase() && first.is_ascii() {
                forms.push(format!(" {}{}", first.to_ascii_uppercase(), chars.as_str()));
            }
            if !first.is_ascii() {
                forms.push(phrase.clone());
            }
        }
        // A spelling whose tokens split a character into bytes would favour the first half of
        // every character that starts the same way ("人" shares its lead bytes with hundreds):
        // only spellings made of whole-character tokens are boosted.
        forms
            .iter()
            // Room for every token: whisper-rs reads a longer text's "too many" answer as a
            // length, which is undefined behaviour; a token is at least one byte.
            .filter_map(|f| self.ctx.tokenize(f, f.len() + 1).ok())
            .filter(|seq| seq.iter().all(|t| self.ctx.token_to_str(*t).is_ok()))
            .collect()
    }
}

/// A word written only because it was boosted must have been at least this likely to the model
/// itself (log-probability; about 5 %): noise decoded as "outage" had 1.5 %, before the boost.
const FAVOURED_FLOOR: f32 = -3.0;

/// The most text tokens an utterance of `samples` (16 kHz) can need: fast speech is about four
/// tokens a second; anything longer is the decoder repeating itself.
fn max_tokens_for(samples: usize) -> i32 {
    let seconds = samples as f64 / 16_000.0;
    (seconds * 6.0 + 16.0).min(224.0) as i32
}

impl WhisperRecognizer {
    fn read_transcript(
        &self,
        state: &WhisperState,
        language: Option<&str>,
        prompt: Option<&str>,
        boost: &BoostRun,
        budget: i32,
    ) -> Transcript {
        let eot = self.ctx.token_eot();
        let mut text = String::new();
        let mut segments = Vec::new();
        // Each text token's characters and the model's own log-probability of it.
        let mut written: Vec<(usize, f32)> = Vec::new();
        let mut no_speech = 0.0f32;
        // The position of each token in the decode (what the boost's record is keyed on), and
        // the model's own log-probability of the least likely token the boost favoured.
        let mut at = 0usize;
        let mut least_favoured: Option<f32> = None;
        // The most text tokens any segment was written with: at the budget, the decoder was
        // stopped, not done.
        let mut longest = 0usize;
        for seg in state.as_iter() {
            let before = written.len();
            let seg_text = seg
                .to_str_lossy()
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            for i in 0..seg.n_tokens() {
                if let Some(tok) = seg.get_token(i) {
                    // Special tokens (end of text, timestamps, language tags) are not words.
                    if tok.token_id() < eot {
                        // The model's own probability, the boost's favour taken back out.
                        let (plog, favoured) =
                            boost.unbiased(at, tok.token_id(), tok.token_data().plog);
                        if favoured {
                            least_favoured =
                                Some(least_favoured.map_or(plog, |l: f32| l.min(plog)));
                        }
                        let chars = tok.to_str_lossy().map_or(0, |t| t.chars().count());
                        written.push((chars, plog));
                    }
                    at += 1;
                }
            }
            longest = longest.max(written.len() - before);
            if !seg_text.is_empty() {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&seg_text);
            }
            no_speech = no_speech.max(seg.no_speech_probability());
            segments.push(Segment {
                text: seg_text,
                start: centiseconds(seg.start_timestamp()),
                end: centiseconds(seg.end_timestamp()),
                no_speech_probability: seg.no_speech_probability(),
            });
        }
        let language = match language {
            Some(l) => l.to_string(),
            None => whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or_default()
                .to_string(),
        };
        // A sentence written again and again from the start is read as written once, judged
        // on its own tokens (the repeats are the decoder's, not the caller's).
        let once = super::first_pass(&text, prompt);
        let said_again = once.is_some();
        if let Some(once) = once {
            let want = once.chars().count();
            let (mut have, mut keep) = (0usize, 0usize);
            // The first token carries whisper's leading space, which the text was trimmed of.
            for (chars, _) in &written {
                if have > want {
                    break;
                }
                have += chars;
                keep += 1;
            }
            tracing::debug!(heard = %text, kept = %once, "a sentence repeated: the first pass kept");
            written.truncate(keep.max(1));
            text = once;
        }
        let p_n = written.len() as u32;
        let logp_sum: f64 = written.iter().map(|(_, lp)| f64::from(*lp)).sum();
        let p_sum: f64 = written.iter().map(|(_, lp)| f64::from(lp.exp())).sum();
        let mean_logprob = (p_n > 0).then(|| logp_sum / f64::from(p_n));
        let doubt = super::doubt(&text, prompt, mean_logprob, no_speech, &Default::default())
            .or_else(|| (!said_again).then(|| super::ran_on(longest, budget)).flatten())
            .or_else(|| {
                least_favoured
                    .filter(|lp| *lp < FAVOURED_FLOOR)
                    .map(|lp| {
                        Doubt::new(
                            DoubtKind::Favoured,
                            format!(
                                "a favoured word the audio barely supports (log-probability {lp:.2} before the boost)"
                            ),
                        )
                    })
            });
        Transcript {
            text,
            language,
            confidence: (p_n > 0).then(|| (p_sum / f64::from(p_n)) as f32),
            doubt,
            segments,
        }
    }
}

fn centiseconds(t: i64) -> Duration {
    Duration::from_millis(u64::try_from(t).unwrap_or(0).saturating_mul(10))
}
