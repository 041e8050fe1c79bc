//! Shared pieces of the `fuzz_*` property tests: how many cases to run and the structure-aware
//! mutations applied to valid fixtures (SIP messages, SDP bodies, RTP packets, dialplans).
//!
//! The fuzz targets are ordinary proptest tests named `fuzz_*`, so `cargo test fuzz_` selects
//! them. `make test` runs each with [`DEFAULT_CASES`] cases; `make fuzz` sets
//! `HUMANLINE_FUZZ_CASES` (20 000) and runs them in release mode. A failing case is shrunk and
//! saved by proptest under `proptest-regressions/` (committed, so every later run replays it
//! first); a real bug found that way is also kept as a named unit test next to the fix.

use proptest::prelude::*;

/// Cases per fuzz target when `HUMANLINE_FUZZ_CASES` is not set: small enough that the whole
/// fuzz set adds a few seconds to a debug `cargo test`.
pub const DEFAULT_CASES: u32 = 256;

/// Cases per fuzz target: `HUMANLINE_FUZZ_CASES` when it holds a positive number, else
/// [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("HUMANLINE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_CASES)
}

/// The proptest configuration every fuzz target uses.
pub fn config() -> ProptestConfig {
    ProptestConfig::with_cases(cases())
}

/// Byte strings hostile parsers meet: separators, NULs, non-UTF-8, line-ending mixes,
/// negative and overflowing numbers, and one value far over every line limit.
fn nasty_chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            &b"\0"[..],
            b"\xff\xfe",
            b"\xc3\x28",
            b"\xe2\x82",
            b"\r",
            b"\n",
            b"\r\n",
            b"\r\n\r\n",
            b"\n\n",
            b" ",
            b"\t",
            b"\r\n ",
            b":",
            b";",
            b",",
            b"=",
            b"<",
            b">",
            b"\"",
            b"\\",
            b"%",
            b"%0",
            b"%00",
            b"@",
            b"[",
            b"]",
            b"/",
            b"-1",
            b"0",
            b"-2147483649",
            b"4294967296",
            b"65536",
            b"99999999999999999999999",
            b"18446744073709551616",
            b"1e400",
            b"NaN",
            b"\"\"\"",
            b"[[",
            b"{",
            b"}",
            b"#",
            b"\xf0\x9f\x98\x80",
            "大停電".as_bytes(),
        ])
        .prop_map(<[u8]>::to_vec),
        (1usize..20_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        proptest::collection::vec(any::<u8>(), 1..16),
    ]
}

/// One edit of a valid message.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Keep only the bytes before the index.
    Truncate(Pos),
    /// XOR one byte with a non-zero mask.
    Flip(Pos, u8),
    /// Insert a nasty chunk at the index.
    Insert(Pos, Vec<u8>),
    /// Replace the byte range starting at the index (up to 8 bytes) with a chunk.
    Replace(Pos, usize, Vec<u8>),
    /// Replace the run of digits at or after the index with a chunk (a number made hostile).
    Number(Pos, Vec<u8>),
    /// Delete one line.
    DeleteLine(Pos),
    /// Insert `n` more copies of one line before it.
    DuplicateLine(Pos, usize),
    /// Swap two lines.
    SwapLines(Pos, Pos),
    /// Turn every CRLF into LF.
    CrlfToLf,
    /// Turn every bare LF into CRLF.
    LfToCrlf,
}

/// A strategy for one [`Mutation`].
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Pos>().prop_map(Mutation::Truncate),
        1 => (any::<Pos>(), 1u8..=255).prop_map(|(i, m)| Mutation::Flip(i, m)),
        3 => (any::<Pos>(), nasty_chunk()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        2 => (any::<Pos>(), 1usize..8, nasty_chunk()).prop_map(|(i, n, c)| Mutation::Replace(i, n, c)),
        2 => (any::<Pos>(), nasty_chunk()).prop_map(|(i, c)| Mutation::Number(i, c)),
        1 => any::<Pos>().prop_map(Mutation::DeleteLine),
        1 => (any::<Pos>(), prop_oneof![2usize..4, 100usize..300]).prop_map(|(i, n)| Mutation::DuplicateLine(i, n)),
        1 => (any::<Pos>(), any::<Pos>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => Just(Mutation::CrlfToLf),
        1 => Just(Mutation::LfToCrlf),
    ]
}

/// One of `fixtures`, mutated up to `max` times.
pub fn mutated_one_of(fixtures: Vec<Vec<u8>>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    let n = fixtures.len();
    (0..n, proptest::collection::vec(mutation(), 1..=max)).prop_map(move |(which, edits)| {
        let mut bytes = fixtures[which].clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        bytes
    })
}

/// The most bytes a line duplication grows an input to: well over every limit of the parsers
/// (a SIP message is at most 64 KiB), far under what a test machine can hold.
pub const MAX_MUTATED: usize = 1 << 20;

/// Applies one mutation in place.
pub fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len())),
        Mutation::Flip(i, mask) => {
            if !bytes.is_empty() {
                let k = pick(*i, bytes.len());
                bytes[k] ^= mask;
            }
        }
        Mutation::Insert(i, chunk) => {
            let k = at(*i, bytes.len());
            bytes.splice(k..k, chunk.iter().copied());
        }
        Mutation::Replace(i, n, chunk) => {
            let k = at(*i, bytes.len());
            let end = (k + n).min(bytes.len());
            bytes.splice(k..end, chunk.iter().copied());
        }
        Mutation::Number(i, chunk) => {
            let k = at(*i, bytes.len());
            let Some(s) = bytes[k..]
                .iter()
                .position(u8::is_ascii_digit)
                .map(|p| k + p)
            else {
                return;
            };
            let e = bytes[s..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(bytes.len(), |p| s + p);
            bytes.splice(s..e, chunk.iter().copied());
        }
        Mutation::DeleteLine(i) => {
            let lines = lines(bytes);
            let (s, e) = lines[pick(*i, lines.len())];
            bytes.drain(s..e);
        }
        Mutation::DuplicateLine(i, n) => {
            let lines = lines(bytes);
            let (s, e) = lines[pick(*i, lines.len())];
            let line = bytes[s..e].to_vec();
            // Copies of copies grow by a power: keep an input within [`MAX_MUTATED`] (found
            // with 20 000 cases: 616 GB asked for by eight duplications in a row).
            let room = MAX_MUTATED.saturating_sub(bytes.len());
            let n = (*n).min(room / line.len().max(1));
            let copies: Vec<u8> = line.iter().copied().cycle().take(line.len() * n).collect();
            bytes.splice(s..s, copies);
        }
        Mutation::SwapLines(a, b) => {
            let lines = lines(bytes);
            let (x, y) = (pick(*a, lines.len()), pick(*b, lines.len()));
            let (first, second) = (lines[x.min(y)], lines[x.max(y)]);
            if first == second {
                return;
            }
            let mut out = bytes[..first.0].to_vec();
            out.extend_from_slice(&bytes[second.0..second.1]);
            out.extend_from_slice(&bytes[first.1..second.0]);
            out.extend_from_slice(&bytes[first.0..first.1]);
            out.extend_from_slice(&bytes[second.1..]);
            *bytes = out;
        }
        Mutation::CrlfToLf => {
            let mut out = Vec::with_capacity(bytes.len());
            for (k, b) in bytes.iter().enumerate() {
                if !(*b == b'\r' && bytes.get(k + 1) == Some(&b'\n')) {
                    out.push(*b);
                }
            }
            *bytes = out;
        }
        Mutation::LfToCrlf => {
            let mut out = Vec::with_capacity(bytes.len() + 64);
            for (k, b) in bytes.iter().enumerate() {
                if *b == b'\n' && (k == 0 || bytes[k - 1] != b'\r') {
                    out.push(b'\r');
                }
                out.push(*b);
            }
            *bytes = out;
        }
    }
}

/// A position inside a message, as a fraction of its length (so shrinking moves it to 0).
pub type Pos = u16;

/// The position `p` maps to in `0..=len`.
fn at(p: Pos, len: usize) -> usize {
    len * usize::from(p) / usize::from(Pos::MAX)
}

/// The element `p` picks among `n > 0`.
fn pick(p: Pos, n: usize) -> usize {
    (n - 1) * usize::from(p) / usize::from(Pos::MAX)
}

/// `(start, end)` of every line, each end past its `\n`; at least one (possibly empty) line.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (k, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, k + 1));
            start = k + 1;
        }
    }
    if start < bytes.len() || out.is_empty() {
        out.push((start, bytes.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_edits_keep_every_other_byte() {
        let mut b = b"a\r\nbb\r\nccc".to_vec();
        apply(&mut b, &Mutation::SwapLines(0, Pos::MAX));
        assert_eq!(b, b"cccbb\r\na\r\n");
        let mut b = b"a\nb\n".to_vec();
        apply(&mut b, &Mutation::DuplicateLine(Pos::MAX, 2));
        assert_eq!(b, b"a\nb\nb\nb\n");
        apply(&mut b, &Mutation::LfToCrlf);
        assert_eq!(b, b"a\r\nb\r\nb\r\nb\r\n");
        apply(&mut b, &Mutation::CrlfToLf);
        assert_eq!(b, b"a\nb\nb\nb\n");
    }

    #[test]
    fn duplicated_lines_never_grow_an_input_past_the_cap() {
        let mut b = vec![b'x'; 1000];
        b.push(b'\n');
        for _ in 0..8 {
            apply(&mut b, &Mutation::DuplicateLine(0, 299));
        }
        assert!(b.len() <= MAX_MUTATED, "{} bytes", b.len());
        assert!(
            b.len() > MAX_MUTATED / 2,
            "still duplicated: {} bytes",
            b.len()
        );
    }

    #[test]
    fn number_mutation_replaces_the_whole_digit_run() {
        let mut b = b"Content-Length: 123\r\n".to_vec();
        apply(&mut b, &Mutation::Number(0, b"-1".to_vec()));
        assert_eq!(b, b"Content-Length: -1\r\n");
    }

    #[test]
    fn case_count_defaults_small() {
        if std::env::var_os("HUMANLINE_FUZZ_CASES").is_none() {
            assert_eq!(cases(), DEFAULT_CASES);
        }
    }
}
