//! GPT-2's byte-to-unicode table. Byte-level BPE vocabularies (GPT-2's, whisper's) are written
//! as text by giving each of the 256 byte values a printable character: printable Latin-1
//! bytes stand for themselves, the others (controls, space, soft hyphen…) are moved to
//! U+0100 and up. `vocabulary.txt` uses that spelling; whisper.cpp wants the raw bytes back.

/// Whether byte `b` is one GPT-2 keeps as its own character: `!`..=`~`, `¡`..=`¬`, `®`..=`ÿ`.
fn keeps_itself(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The character GPT-2 writes for each byte value (`bytes_to_unicode()` in GPT-2's encoder.py).
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        table[usize::from(b)] = if keeps_itself(b) {
            char::from(b)
        } else {
            let c = char::from_u32(next).unwrap_or(char::REPLACEMENT_CHARACTER);
            next += 1;
            c
        };
    }
    table
}

/// Inverse of [`byte_to_char`]: the byte a character stands for, `None` for characters outside
/// the table.
#[derive(Debug, Clone)]
pub struct CharToByte {
    /// Indexed by code point; every code point in the table is below 0x144.
    map: Vec<Option<u8>>,
}

impl CharToByte {
    /// Builds the inverse table.
    pub fn new() -> CharToByte {
        let table = byte_to_char();
        let len = table.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut map = vec![None; len];
        for (b, &c) in table.iter().enumerate() {
            map[c as usize] = u8::try_from(b).ok();
        }
        CharToByte { map }
    }

    /// The byte that `c` stands for.
    pub fn byte(&self, c: char) -> Option<u8> {
        self.map.get(c as usize).copied().flatten()
    }

    /// Decodes a whole token; `None` if any character is outside the table.
    pub fn decode(&self, token: &str) -> Option<Vec<u8>> {
        token.chars().map(|c| self.byte(c)).collect()
    }
}

impl Default for CharToByte {
    fn default() -> Self {
        CharToByte::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_byte_gets_its_own_character() {
        let t = byte_to_char();
        let unique: HashSet<char> = t.iter().copied().collect();
        assert_eq!(unique.len(), 256);
    }

    #[test]
    fn printable_bytes_stand_for_themselves() {
        let t = byte_to_char();
        for b in (b'!'..=b'~').chain(0xA1..=0xAC).chain(0xAE..=0xFF) {
            assert_eq!(t[usize::from(b)], char::from(b), "byte {b:#04x}");
        }
        assert_eq!(t.iter().filter(|&&c| (c as u32) < 256).count(), 188);
    }

    #[test]
    fn unprintable_bytes_move_above_latin1_in_order() {
        let t = byte_to_char();
        assert_eq!(t[0], '\u{100}');
        assert_eq!(t[usize::from(b' ')], 'Ġ'); // U+0120: the space every BPE word starts with
        assert_eq!(t[usize::from(b'\n')], 'Ċ'); // U+010A
        assert_eq!(t[0x7F], '\u{121}');
        assert_eq!(t[0xAD], 'Ń'); // U+0143: soft hyphen, the last one moved
    }

    #[test]
    fn decoding_reverses_the_table() {
        let inv = CharToByte::new();
        let t = byte_to_char();
        for b in 0..=255u8 {
            assert_eq!(inv.byte(t[usize::from(b)]), Some(b));
        }
        assert_eq!(inv.decode("Ġhello").as_deref(), Some(&b" hello"[..]));
        // "人" (E4 BA BA) is written "äºº" in the vocabulary: 'ä' 'º' 'º'.
        assert_eq!(inv.decode("äºº").as_deref(), Some("人".as_bytes()));
        assert_eq!(inv.decode("人"), None);
        assert_eq!(inv.decode("").as_deref(), Some(&b""[..]));
    }
}
