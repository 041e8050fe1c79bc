//! Streaming reader for CTranslate2's `model.bin`.
//!
//! Layout (little-endian): u32 version (6), string spec name, u32 spec revision, u32 variable
//! count, then per variable: string name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count,
//! data; then u32 alias count and (alias, target) string pairs. A string is a u16 length
//! followed by that many bytes, the last one a NUL.
//!
//! The reader hands out one variable at a time into a caller's buffer, so converting the
//! 145 MB base model holds at most its largest variable (the 53 MB token embedding) in memory.

use super::error::ModelError;
use std::io::{self, Read};

/// The `model.bin` format version this reader understands.
pub const FORMAT_VERSION: u32 = 6;

/// Largest rank accepted: whisper's variables have at most 3 dimensions.
const MAX_RANK: u8 = 8;

/// Element type of a variable's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// IEEE single precision.
    F32,
    /// Signed byte (quantized weights, flags).
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// IEEE half precision.
    F16,
}

impl DType {
    fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// A variable's header; its data is in the buffer passed to [`Ct2Reader::next_variable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Slash-separated name, e.g. `encoder/layer_0/self_attention/linear_0/weight`.
    pub name: String,
    /// Dimensions, outermost first (`[rows, cols]` for a matrix); empty for a scalar.
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: DType,
}

impl Variable {
    /// Number of elements (1 for a scalar).
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }
}

/// Reads a `model.bin` front to back.
#[derive(Debug)]
pub struct Ct2Reader<R> {
    r: R,
    offset: u64,
    left: u32,
    spec: String,
    revision: u32,
}

impl<R: Read> Ct2Reader<R> {
    /// Reads the header; fails on another format version.
    pub fn new(r: R) -> Result<Ct2Reader<R>, ModelError> {
        let mut reader = Ct2Reader {
            r,
            offset: 0,
            left: 0,
            spec: String::new(),
            revision: 0,
        };
        let version = reader.u32()?;
        if version != FORMAT_VERSION {
            return Err(reader.error_at(
                0,
                format!("format version {version}, this reader knows version {FORMAT_VERSION}"),
            ));
        }
        reader.spec = reader.string()?;
        reader.revision = reader.u32()?;
        reader.left = reader.u32()?;
        Ok(reader)
    }

    /// The model spec's name, e.g. `WhisperSpec`.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The spec revision.
    pub fn revision(&self) -> u32 {
        self.revision
    }

    /// Variables not read yet.
    pub fn variables_left(&self) -> u32 {
        self.left
    }

    /// The next variable, its data put in `data` (replacing what was there); `None` after the
    /// last one.
    pub fn next_variable(&mut self, data: &mut Vec<u8>) -> Result<Option<Variable>, ModelError> {
        if self.left == 0 {
            return Ok(None);
        }
        let start = self.offset;
        let name = self.string()?;
        let rank = self.u8()?;
        if rank > MAX_RANK {
            return Err(self.error_at(start, format!("variable {name} has rank {rank}")));
        }
        let mut dims = Vec::with_capacity(usize::from(rank));
        for _ in 0..rank {
            dims.push(self.u32()? as usize);
        }
        let code = self.u8()?;
        let dtype = DType::from_code(code).ok_or_else(|| {
            self.error_at(start, format!("variable {name}: unknown dtype {code}"))
        })?;
        let n_bytes = self.u32()?;
        let expected = dims
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| self.error_at(start, format!("variable {name}: shape overflows")))?;
        if u64::from(n_bytes) != expected as u64 {
            return Err(self.error_at(
                start,
                format!("variable {name}: {n_bytes} bytes for shape {dims:?} of {dtype:?}"),
            ));
        }
        data.clear();
        // Grow with the data actually read, so a corrupt size cannot force a huge allocation.
        data.reserve((n_bytes as usize).min(64 << 20));
        let got = (&mut self.r)
            .take(u64::from(n_bytes))
            .read_to_end(data)
            .map_err(|e| self.io_error(e))?;
        self.offset += got as u64;
        if got != n_bytes as usize {
            return Err(self.truncated());
        }
        self.left -= 1;
        Ok(Some(Variable { name, dims, dtype }))
    }

    /// The (alias, target) pairs that follow the variables: names that share another
    /// variable's data (whisper's output projection is the token embedding).
    pub fn aliases(mut self) -> Result<Vec<(String, String)>, ModelError> {
        let mut scratch = Vec::new();
        while self.next_variable(&mut scratch)?.is_some() {}
        let n = self.u32()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let alias = self.string()?;
            let target = self.string()?;
            out.push((alias, target));
        }
        Ok(out)
    }

    fn error_at(&self, offset: u64, message: String) -> ModelError {
        ModelError::Ct2 { offset, message }
    }

    fn truncated(&self) -> ModelError {
        self.error_at(
            self.offset,
            "file ends early (truncated or a part missing)".into(),
        )
    }

    fn io_error(&self, e: io::Error) -> ModelError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            self.truncated()
        } else {
            self.error_at(self.offset, format!("read failed: {e}"))
        }
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io_error(e))?;
        self.offset += N as u64;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.exact::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.exact()?))
    }

    fn string(&mut self) -> Result<String, ModelError> {
        let start = self.offset;
        let len = usize::from(u16::from_le_bytes(self.exact()?));
        let mut bytes = vec![0u8; len];
        self.r
            .read_exact(&mut bytes)
            .map_err(|e| self.io_error(e))?;
        self.offset += len as u64;
        if bytes.pop() != Some(0) {
            return Err(self.error_at(start, "string does not end with NUL".into()));
        }
        String::from_utf8(bytes).map_err(|_| self.error_at(start, "string is not UTF-8".into()))
    }
}

/// Writes a `model.bin` (for tests and tools): each variable is (name, dims, dtype, data).
#[cfg(test)]
pub(crate) fn write_model(
    spec: &str,
    vars: &[(&str, &[usize], DType, Vec<u8>)],
    aliases: &[(&str, &str)],
) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    string(&mut out, spec);
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for (name, dims, dtype, data) in vars {
        string(&mut out, name);
        out.push(dims.len() as u8);
        for d in *dims {
            out.extend_from_slice(&(*d as u32).to_le_bytes());
        }
        out.push(match dtype {
            DType::F32 => 0,
            DType::I8 => 1,
            DType::I16 => 2,
            DType::I32 => 3,
            DType::F16 => 4,
        });
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
    for (a, t) in aliases {
        string(&mut out, a);
        string(&mut out, t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn tiny() -> Vec<u8> {
        write_model(
            "WhisperSpec",
            &[
                ("decoder/pre_norm", &[], DType::I8, vec![1]),
                (
                    "encoder/w",
                    &[2, 3],
                    DType::F32,
                    f32_bytes(&[1., 2., 3., 4., 5., 6.]),
                ),
                ("encoder/b", &[2], DType::F16, vec![0x00, 0x3c, 0x00, 0x40]),
            ],
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        )
    }

    #[test]
    fn reads_header_variables_and_aliases_in_order() {
        let bytes = tiny();
        let mut r = Ct2Reader::new(&bytes[..]).expect("header");
        assert_eq!(r.spec(), "WhisperSpec");
        assert_eq!(r.revision(), 3);
        assert_eq!(r.variables_left(), 3);
        let mut data = Vec::new();
        let v = r.next_variable(&mut data).expect("read").expect("first");
        assert_eq!(v.name, "decoder/pre_norm");
        assert!(v.dims.is_empty());
        assert_eq!(v.elements(), 1);
        assert_eq!(data, [1]);
        let v = r.next_variable(&mut data).expect("read").expect("second");
        assert_eq!(
            (v.name.as_str(), v.dims.as_slice(), v.dtype),
            ("encoder/w", &[2, 3][..], DType::F32)
        );
        assert_eq!(data, f32_bytes(&[1., 2., 3., 4., 5., 6.]));
        let v = r.next_variable(&mut data).expect("read").expect("third");
        assert_eq!(v.dtype, DType::F16);
        assert_eq!(data, [0x00, 0x3c, 0x00, 0x40]);
        assert!(r.next_variable(&mut data).expect("end").is_none());
        let aliases = r.aliases().expect("aliases");
        assert_eq!(
            aliases,
            [(
                "decoder/projection/weight".to_string(),
                "decoder/embeddings/weight".to_string()
            )]
        );
    }

    #[test]
    fn aliases_can_be_read_without_visiting_every_variable() {
        let bytes = tiny();
        let r = Ct2Reader::new(&bytes[..]).expect("header");
        assert_eq!(r.aliases().expect("aliases").len(), 1);
    }

    #[test]
    fn truncated_file_is_reported_with_its_offset() {
        let bytes = tiny();
        // The last 60 bytes are the alias table; cut 2 more, into the last variable's data.
        let cut = &bytes[..bytes.len() - 62];
        let mut r = Ct2Reader::new(cut).expect("header");
        let mut data = Vec::new();
        let err = loop {
            match r.next_variable(&mut data) {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a truncated file read to the end"),
                Err(e) => break e,
            }
        };
        let msg = err.to_string();
        assert!(msg.contains("ends early"), "{msg}");
    }

    #[test]
    fn other_format_versions_are_refused() {
        let mut bytes = tiny();
        bytes[0] = 5;
        let err = Ct2Reader::new(&bytes[..]).expect_err("version 5");
        assert!(err.to_string().contains("format version 5"), "{err}");
    }

    #[test]
    fn byte_count_must_match_the_shape() {
        let bytes = write_model("S", &[("x", &[4], DType::F32, vec![0; 12])], &[]);
        // The writer recorded 12 bytes for 4 f32: the reader must refuse it.
        let mut r = Ct2Reader::new(&bytes[..]).expect("header");
        let err = r.next_variable(&mut Vec::new()).expect_err("bad size");
        assert!(err.to_string().contains("12 bytes for shape [4]"), "{err}");
    }
}
