//! Writes the legacy ggml whisper file that whisper.cpp (and so whisper-rs) loads, from a
//! CTranslate2 whisper model streamed variable by variable.
//!
//! File layout: i32 magic `ggml`; eleven i32 hyper-parameters; the mel filterbank (i32 n_mels,
//! i32 bins, f32 weights); i32 token count and per token i32 length + bytes; then per tensor
//! i32 rank, i32 name length, i32 type (0 f32, 1 f16), the dimensions innermost first, the
//! name and the data. 1-D tensors, the conv biases (stored as `[n, 1]`) and the positional
//! embeddings are f32, every other tensor f16 — what OpenAI's `convert-pt-to-ggml.py` writes,
//! and what whisper.cpp checks each tensor's size against.

use super::ct2::{Ct2Reader, DType, Variable};
use super::error::ModelError;
use super::gpt2_bytes::CharToByte;
pub use super::hparams::{Hparams, WHISPER_BASE};
use super::names::{expected_tensors, map_name};
use crate::asr::mel;
use std::io::{Read, Write};
use std::path::Path;

/// `ggml` in ASCII, read as a little-endian i32.
pub const GGML_MAGIC: i32 = 0x6767_6d6c;

/// The vocabulary line that ends the byte-level tokens; whisper.cpp adds the special tokens.
const END_OF_TEXT: &str = "<|endoftext|>";

/// Sample rate whisper's front end runs at.
const SAMPLE_RATE: u32 = 16_000;
/// FFT size of whisper's front end (25 ms at 16 kHz): 201 frequency bins.
const N_FFT: usize = 400;

/// What a conversion wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertStats {
    /// Tokens in the vocabulary section.
    pub tokens: usize,
    /// Tensors written.
    pub tensors: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Converts a CTranslate2 whisper `model.bin` (read front to back from `model`) and its
/// `vocabulary.txt` into a ggml whisper file written to `out`. `out_path` only names the
/// destination in error messages. Every tensor's shape is checked against `hp`, and the
/// conversion fails unless each tensor whisper.cpp needs was written exactly once.
pub fn convert<R: Read, W: Write>(
    model: R,
    vocabulary: &str,
    hp: &Hparams,
    out: W,
    out_path: &Path,
) -> Result<ConvertStats, ModelError> {
    let tokens = read_tokens(vocabulary, hp)?;
    let mut w = Out {
        w: out,
        bytes: 0,
        path: out_path,
    };
    write_header(&mut w, hp, &tokens)?;

    let mut expected = expected_tensors(hp);
    let mut reader = Ct2Reader::new(model)?;
    if reader.spec() != "WhisperSpec" {
        return Err(ModelError::Ct2 {
            offset: 0,
            message: format!("model spec is {}, not WhisperSpec", reader.spec()),
        });
    }
    let mut data = Vec::new();
    let mut scratch = Vec::new();
    let mut tensors = 0;
    while let Some(var) = reader.next_variable(&mut data)? {
        if var.dims.is_empty() {
            check_scalar(&var, &data, hp)?;
            continue;
        }
        let parts = map_name(&var.name)?;
        let rows = var.dims[0];
        if rows % parts.len() != 0 {
            return Err(tensor_error(
                &var.name,
                format!("{rows} rows do not split in {}", parts.len()),
            ));
        }
        let mut dims = var.dims.clone();
        dims[0] = rows / parts.len();
        let part_bytes = data.len() / parts.len();
        for (i, part) in parts.iter().enumerate() {
            let Some(name) = part else { continue };
            let mut shape = dims.clone();
            if name.ends_with("conv1.bias") || name.ends_with("conv2.bias") {
                shape.push(1);
            }
            match expected.remove(name.as_str()) {
                Some(want) if want == shape => {}
                Some(want) => {
                    return Err(tensor_error(
                        &var.name,
                        format!("{name} has shape {shape:?}, whisper needs {want:?}"),
                    ))
                }
                None => {
                    return Err(tensor_error(
                        &var.name,
                        format!("{name} is not a whisper tensor, or it came twice"),
                    ))
                }
            }
            let src = &data[i * part_bytes..(i + 1) * part_bytes];
            write_tensor(&mut w, name, &shape, var.dtype, src, &mut scratch)
                .map_err(|e| e.for_variable(&var))?;
            tensors += 1;
        }
    }
    if let Some((name, _)) = expected.iter().next() {
        return Err(ModelError::Tensor {
            name: name.clone(),
            message: format!(
                "missing from model.bin ({} whisper tensors missing in all)",
                expected.len()
            ),
        });
    }
    w.w.flush()
        .map_err(|e| ModelError::io("writing", out_path, e))?;
    Ok(ConvertStats {
        tokens: tokens.len(),
        tensors,
        bytes: w.bytes,
    })
}

/// A writer that counts bytes and names its file in errors (the converter's and the
/// quantiser's).
pub(super) struct Out<'p, W> {
    pub(super) w: W,
    pub(super) bytes: u64,
    pub(super) path: &'p Path,
}

impl<W: Write> Out<'_, W> {
    pub(super) fn put(&mut self, b: &[u8]) -> Result<(), ModelError> {
        self.w
            .write_all(b)
            .map_err(|e| ModelError::io("writing", self.path, e))?;
        self.bytes += b.len() as u64;
        Ok(())
    }

    pub(super) fn i32(&mut self, v: i32) -> Result<(), ModelError> {
        self.put(&v.to_le_bytes())
    }

    /// A count written as the header's i32.
    pub(super) fn len(&mut self, v: usize) -> Result<(), ModelError> {
        let v = i32::try_from(v).map_err(|_| ModelError::Tensor {
            name: String::new(),
            message: format!("{v} does not fit the ggml header's i32"),
        })?;
        self.i32(v)
    }
}

fn write_header<W: Write>(
    w: &mut Out<'_, W>,
    hp: &Hparams,
    tokens: &[Vec<u8>],
) -> Result<(), ModelError> {
    w.i32(GGML_MAGIC)?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
    ] {
        w.len(v)?;
    }
    w.i32(hp.ftype)?;

    let filters = mel::filterbank(SAMPLE_RATE, N_FFT, hp.n_mels);
    w.len(hp.n_mels)?;
    w.len(N_FFT / 2 + 1)?;
    let bytes: Vec<u8> = filters.iter().flat_map(|f| f.to_le_bytes()).collect();
    w.put(&bytes)?;

    w.len(tokens.len())?;
    for t in tokens {
        w.len(t.len())?;
        w.put(t)?;
    }
    Ok(())
}

/// The byte-level tokens of `vocabulary.txt` (the lines before `<|endoftext|>`), turned back
/// into bytes. The file must have one line per model token: a vocabulary that is off by one
/// would shift every decoded word.
pub fn read_tokens(vocabulary: &str, hp: &Hparams) -> Result<Vec<Vec<u8>>, ModelError> {
    let lines: Vec<&str> = vocabulary
        .strip_suffix('\n')
        .unwrap_or(vocabulary)
        .split('\n')
        .collect();
    if lines.len() != hp.n_vocab {
        return Err(ModelError::Vocabulary {
            line: 0,
            message: format!(
                "{} entries, the model has {} tokens",
                lines.len(),
                hp.n_vocab
            ),
        });
    }
    let table = CharToByte::new();
    let mut tokens = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line == END_OF_TEXT {
            return Ok(tokens);
        }
        let bytes = table.decode(line).ok_or_else(|| ModelError::Vocabulary {
            line: i + 1,
            message: format!("{line:?} has a character outside GPT-2's byte table"),
        })?;
        tokens.push(bytes);
    }
    Err(ModelError::Vocabulary {
        line: 0,
        message: format!("no {END_OF_TEXT} line"),
    })
}

fn tensor_error(name: &str, message: String) -> ModelError {
    ModelError::Tensor {
        name: name.to_string(),
        message,
    }
}

trait ForVariable {
    fn for_variable(self, var: &Variable) -> ModelError;
}

impl ForVariable for ModelError {
    /// Names the CTranslate2 variable in a tensor error that lacks a name.
    fn for_variable(self, var: &Variable) -> ModelError {
        match self {
            ModelError::Tensor { name, message } if name.is_empty() => ModelError::Tensor {
                name: var.name.clone(),
                message,
            },
            other => other,
        }
    }
}

/// Checks the scalars that restate a hyper-parameter (the head counts); ignores the others
/// (activation, pre-norm flags…), which whisper.cpp hard-codes.
fn check_scalar(var: &Variable, data: &[u8], hp: &Hparams) -> Result<(), ModelError> {
    let expected = match var.name.as_str() {
        "encoder/num_heads" => hp.n_audio_head,
        "decoder/num_heads" => hp.n_text_head,
        _ => return Ok(()),
    };
    let value = match (var.dtype, data) {
        (DType::I8, [b]) => i64::from(*b as i8),
        (DType::I16, [a, b]) => i64::from(i16::from_le_bytes([*a, *b])),
        (DType::I32, [a, b, c, d]) => i64::from(i32::from_le_bytes([*a, *b, *c, *d])),
        _ => {
            return Err(tensor_error(
                &var.name,
                format!("unexpected {:?} scalar", var.dtype),
            ))
        }
    };
    if value != expected as i64 {
        return Err(tensor_error(
            &var.name,
            format!("{value} heads, the converter expects {expected}"),
        ));
    }
    Ok(())
}

/// Whether whisper.cpp keeps this tensor in f32 (rather than f16).
fn stored_as_f32(name: &str, rank: usize) -> bool {
    rank == 1
        || name.ends_with("conv1.bias")
        || name.ends_with("conv2.bias")
        || name.ends_with("positional_embedding")
}

fn write_tensor<W: Write>(
    w: &mut Out<'_, W>,
    name: &str,
    shape: &[usize],
    dtype: DType,
    src: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(), ModelError> {
    let f32_out = stored_as_f32(name, shape.len());
    w.len(shape.len())?;
    w.len(name.len())?;
    w.i32(if f32_out { 0 } else { 1 })?;
    for &d in shape.iter().rev() {
        w.len(d)?;
    }
    w.put(name.as_bytes())?;
    match (dtype, f32_out) {
        (DType::F16, false) | (DType::F32, true) => w.put(src),
        (DType::F16, true) => {
            scratch.clear();
            for h in src.chunks_exact(2) {
                let v = half::f16::from_le_bytes([h[0], h[1]]).to_f32();
                scratch.extend_from_slice(&v.to_le_bytes());
            }
            w.put(scratch)
        }
        (DType::F32, false) => {
            scratch.clear();
            for f in src.chunks_exact(4) {
                let v = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
                scratch.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
            }
            w.put(scratch)
        }
        (other, _) => Err(tensor_error(
            "",
            format!("{other:?} data: only f16/f32 models convert (not int8-quantized ones)"),
        )),
    }
}

#[cfg(test)]
#[path = "ggml_tests.rs"]
mod tests;
