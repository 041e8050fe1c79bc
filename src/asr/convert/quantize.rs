//! ggml block quantisation of a legacy ggml whisper file: the f16 model that
//! [`convert`](super::convert) writes, rewritten with its weight matrices in q8_0 or q5_1, as
//! whisper.cpp's own `quantize` example does.
//!
//! The block quantisers are bit-exact ports of ggml's reference ones (`quantize_row_q8_0_ref`,
//! `quantize_row_q5_1_ref` in `ggml-quants.c`, which `ggml_quantize_chunk` uses when no
//! importance matrix is given), so a file quantised here is the file whisper.cpp's tool writes.
//!
//! ```text
//!  q8_0, 34 bytes per 32 values:  f16 d = amax/127 │ 32 × i8 round(x/d)
//!  q5_1, 24 bytes per 32 values:  f16 d = (max-min)/31 │ f16 m = min │ u32 qh (5th bits)
//!                                 │ 16 bytes: low nibble value j, high nibble value j+16
//! ```
//!
//! What is quantised (whisper.cpp `examples/quantize`): every 2-D tensor except the conv
//! biases and the positional embeddings; 1-D tensors and the 3-D conv kernels are copied as
//! they are. The header's ftype becomes `GGML_QNT_VERSION * 1000 + GGML_FTYPE_MOSTLY_*`.

use super::error::ModelError;
use super::ggml::{Out, GGML_MAGIC};
use std::io::{self, Read, Write};
use std::path::Path;

/// Values per quantisation block (`QK8_0`, `QK5_1`).
pub const BLOCK: usize = 32;

/// ggml's quantisation format version, stored in the header's ftype (`GGML_QNT_VERSION`).
pub const GGML_QNT_VERSION: i32 = 2;
/// Multiplier of the version in the ftype field (`GGML_QNT_VERSION_FACTOR`).
pub const GGML_QNT_VERSION_FACTOR: i32 = 1000;

/// Tensor type ids of the ggml file (`enum ggml_type`).
const GGML_TYPE_F32: i32 = 0;
const GGML_TYPE_F16: i32 = 1;

/// Tensors whisper.cpp's quantizer leaves in their original type (its `to_skip` list).
const SKIPPED: [&str; 4] = [
    "encoder.conv1.bias",
    "encoder.conv2.bias",
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

/// A ggml block quantisation whisper.cpp reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantType {
    /// 8-bit, one scale per block.
    Q8_0,
    /// 5-bit, scale and minimum per block.
    Q5_1,
}

impl QuantType {
    /// The per-tensor type id (`GGML_TYPE_Q8_0` = 8, `GGML_TYPE_Q5_1` = 7).
    pub const fn ggml_type(self) -> i32 {
        match self {
            QuantType::Q8_0 => 8,
            QuantType::Q5_1 => 7,
        }
    }

    /// The whole-file type (`GGML_FTYPE_MOSTLY_Q8_0` = 7, `GGML_FTYPE_MOSTLY_Q5_1` = 9).
    pub const fn ggml_ftype(self) -> i32 {
        match self {
            QuantType::Q8_0 => 7,
            QuantType::Q5_1 => 9,
        }
    }

    /// Bytes of one block of [`BLOCK`] values.
    pub const fn block_bytes(self) -> usize {
        match self {
            QuantType::Q8_0 => 2 + BLOCK,
            QuantType::Q5_1 => 2 + 2 + 4 + BLOCK / 2,
        }
    }

    /// Appends the blocks of `x` to `out`; `x.len()` must be a multiple of [`BLOCK`] (a
    /// shorter tail is ignored, as it cannot be stored).
    pub fn quantize(self, x: &[f32], out: &mut Vec<u8>) {
        match self {
            QuantType::Q8_0 => quantize_q8_0(x, out),
            QuantType::Q5_1 => quantize_q5_1(x, out),
        }
    }

    /// Appends the values the blocks in `blocks` stand for to `out` (ggml's
    /// `dequantize_row_*`); a partial block at the end is ignored.
    pub fn dequantize(self, blocks: &[u8], out: &mut Vec<f32>) {
        match self {
            QuantType::Q8_0 => dequantize_q8_0(blocks, out),
            QuantType::Q5_1 => dequantize_q5_1(blocks, out),
        }
    }
}

/// `quantize_row_q8_0_ref`: d = amax / 127 stored as f16, each value `round(x / d)` (half away
/// from zero) as i8, computed with the f32 reciprocal of the unrounded d, as ggml does.
pub fn quantize_q8_0(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(BLOCK) {
        // ggml's MAX(amax, fabsf(v)), spelled the same way.
        let amax = block
            .iter()
            .fold(0.0f32, |m, v| if m > v.abs() { m } else { v.abs() });
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        // |x·id| ≤ 127 up to rounding; `as` saturates where C's conversion would be undefined.
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
}

/// `quantize_row_q5_1_ref`: d = (max − min) / 31 and m = min as f16, each value
/// `trunc((x − min) / d + 0.5)` in 0..=31: the low four bits as nibbles (value j low, j + 16
/// high), the fifth bits gathered in a little-endian u32 (bit j for value j).
pub fn quantize_q5_1(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(BLOCK) {
        let (min, max) = block.iter().fold((f32::MAX, -f32::MAX), |(lo, hi), &v| {
            (if v < lo { v } else { lo }, if v > hi { v } else { hi })
        });
        let d = (max - min) / 31.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        out.extend_from_slice(&half::f16::from_f32(min).to_le_bytes());
        let mut qh = 0u32;
        let mut qs = [0u8; BLOCK / 2];
        for (j, q) in qs.iter_mut().enumerate() {
            let x0 = (block[j] - min) * id;
            let x1 = (block[j + BLOCK / 2] - min) * id;
            let xi0 = (x0 + 0.5) as u8;
            let xi1 = (x1 + 0.5) as u8;
            *q = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
            qh |= u32::from((xi0 & 0x10) >> 4) << j;
            qh |= u32::from((xi1 & 0x10) >> 4) << (j + BLOCK / 2);
        }
        out.extend_from_slice(&qh.to_le_bytes());
        out.extend_from_slice(&qs);
    }
}

/// `dequantize_row_q8_0`: value = d · q.
pub fn dequantize_q8_0(blocks: &[u8], out: &mut Vec<f32>) {
    for b in blocks.chunks_exact(QuantType::Q8_0.block_bytes()) {
        let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        out.extend(b[2..].iter().map(|&q| f32::from(q as i8) * d));
    }
}

/// `dequantize_row_q5_1`: value = d · q + m.
pub fn dequantize_q5_1(blocks: &[u8], out: &mut Vec<f32>) {
    for b in blocks.chunks_exact(QuantType::Q5_1.block_bytes()) {
        let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        let m = half::f16::from_le_bytes([b[2], b[3]]).to_f32();
        let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let qs = &b[8..];
        let value = |j: usize| {
            let low = if j < BLOCK / 2 {
                qs[j] & 0x0f
            } else {
                qs[j - BLOCK / 2] >> 4
            };
            let high = ((qh >> j) & 1) as u8;
            f32::from(low | (high << 4)) * d + m
        };
        out.extend((0..BLOCK).map(value));
    }
}

/// What [`quantize_model`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantizeStats {
    /// Tensors stored quantised.
    pub quantized: usize,
    /// Tensors copied unchanged.
    pub copied: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Rewrites the ggml whisper file read from `input` (f16 or f32 weights) into `out` with its
/// weight matrices quantised to `qtype`, byte for byte what whisper.cpp's `quantize` writes.
/// `in_path` and `out_path` only name the files in error messages.
pub fn quantize_model<R: Read, W: Write>(
    input: R,
    qtype: QuantType,
    out: W,
    in_path: &Path,
    out_path: &Path,
) -> Result<QuantizeStats, ModelError> {
    let mut r = In {
        r: input,
        path: in_path,
    };
    let mut w = Out {
        w: out,
        bytes: 0,
        path: out_path,
    };
    let magic = r.i32()?;
    if magic != GGML_MAGIC {
        return Err(r.bad(format!("magic {magic:#x} is not ggml's")));
    }
    w.i32(magic)?;
    for _ in 0..10 {
        let v = r.i32()?;
        w.i32(v)?;
    }
    let ftype = r.i32()?;
    if ftype % GGML_QNT_VERSION_FACTOR > GGML_TYPE_F16 {
        return Err(r.bad(format!(
            "ftype {ftype}: the model is already quantised (quantise the f16 one)"
        )));
    }
    w.i32(GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + qtype.ggml_ftype())?;

    let mut buf = Vec::new();
    // Mel filterbank: n_mel, n_fft, n_mel·n_fft f32.
    let n_mel = r.count("mel bands")?;
    let n_fft = r.count("FFT bins")?;
    w.len(n_mel)?;
    w.len(n_fft)?;
    r.copy(&mut w, n_mel * n_fft * 4, &mut buf)?;
    // Vocabulary: count, then per token a length and its bytes.
    let n_vocab = r.count("tokens")?;
    w.len(n_vocab)?;
    for _ in 0..n_vocab {
        let len = r.count("token length")?;
        w.len(len)?;
        r.copy(&mut w, len, &mut buf)?;
    }

    let mut stats = QuantizeStats {
        quantized: 0,
        copied: 0,
        bytes: 0,
    };
    let mut values = Vec::new();
    let mut blocks = Vec::new();
    while let Some(n_dims) = r.i32_or_end()? {
        let name_len = r.count("tensor name length")?;
        let ttype = r.i32()?;
        if !(1..=4).contains(&n_dims) {
            return Err(r.bad(format!("a tensor of rank {n_dims}")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.count("tensor dimension")?);
        }
        let mut name = vec![0u8; name_len];
        r.read(&mut name)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let elements: usize = dims.iter().product();
        let elem_bytes = match ttype {
            GGML_TYPE_F32 => 4,
            GGML_TYPE_F16 => 2,
            other => {
                return Err(r.bad(format!("tensor {name} has type {other}, not f32 or f16")));
            }
        };
        let quantize = dims.len() == 2 && !SKIPPED.contains(&name.as_str());
        if quantize && dims[0] % BLOCK != 0 {
            return Err(ModelError::Tensor {
                name,
                message: format!("rows of {} do not split in blocks of {BLOCK}", dims[0]),
            });
        }
        w.i32(n_dims)?;
        w.len(name_len)?;
        w.i32(if quantize { qtype.ggml_type() } else { ttype })?;
        for &d in &dims {
            w.len(d)?;
        }
        w.put(name.as_bytes())?;
        if !quantize {
            r.copy(&mut w, elements * elem_bytes, &mut buf)?;
            stats.copied += 1;
            continue;
        }
        buf.resize(elements * elem_bytes, 0);
        r.read(&mut buf)?;
        values.clear();
        if ttype == GGML_TYPE_F16 {
            values.extend(
                buf.chunks_exact(2)
                    .map(|h| half::f16::from_le_bytes([h[0], h[1]]).to_f32()),
            );
        } else {
            values.extend(
                buf.chunks_exact(4)
                    .map(|f| f32::from_le_bytes([f[0], f[1], f[2], f[3]])),
            );
        }
        blocks.clear();
        qtype.quantize(&values, &mut blocks);
        w.put(&blocks)?;
        stats.quantized += 1;
    }
    w.w.flush()
        .map_err(|e| ModelError::io("writing", out_path, e))?;
    stats.bytes = w.bytes;
    Ok(stats)
}

/// The ggml file being read, named in errors.
struct In<'p, R> {
    r: R,
    path: &'p Path,
}

impl<R: Read> In<'_, R> {
    fn bad(&self, message: String) -> ModelError {
        ModelError::Ggml {
            path: self.path.to_path_buf(),
            message,
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<(), ModelError> {
        self.r.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => self.bad("is cut short".into()),
            _ => ModelError::io("reading", self.path, e),
        })
    }

    fn i32(&mut self) -> Result<i32, ModelError> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Ok(i32::from_le_bytes(b))
    }

    /// The next i32, or `None` at a clean end of file (between tensors).
    fn i32_or_end(&mut self) -> Result<Option<i32>, ModelError> {
        let mut b = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.r.read(&mut b[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(self.bad("ends in the middle of a tensor header".into())),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ModelError::io("reading", self.path, e)),
            }
        }
        Ok(Some(i32::from_le_bytes(b)))
    }

    /// A non-negative i32 field as a count.
    fn count(&mut self, what: &str) -> Result<usize, ModelError> {
        let v = self.i32()?;
        usize::try_from(v).map_err(|_| self.bad(format!("{what} is {v}")))
    }

    /// Copies `n` bytes to `w` through `buf`.
    fn copy<W: Write>(
        &mut self,
        w: &mut Out<'_, W>,
        n: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), ModelError> {
        buf.resize(n, 0);
        self.read(buf)?;
        w.put(buf)
    }
}

#[cfg(test)]
#[path = "quantize_tests.rs"]
mod tests;
