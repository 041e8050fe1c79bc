//! Fuzz targets for SDES `a=crypto:` lines: arbitrary text and mutations of real lines. A line
//! that parses writes back to the same value. (Offers and answers around them:
//! `server/secure_media_fuzz_tests.rs`.)

use proptest::prelude::*;

use super::*;
use crate::fuzz_support::{config, mutated_one_of};

const KEY: &str = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

fn lines() -> Vec<Vec<u8>> {
    [
        format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}|2^20|1:32"),
        format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}|2^20"),
        format!("2 AES_CM_128_HMAC_SHA1_32 {KEY}"),
        format!("3 AES_256_CM_HMAC_SHA1_80 {KEY}"),
        format!("1 AES_CM_128_HMAC_SHA1_80 {KEY} KDR=0 UNENCRYPTED_SRTCP"),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn check_line(bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(c) = Crypto::parse(&text) {
        let again = Crypto::parse(&c.to_value());
        prop_assert_eq!(again.as_ref(), Ok(&c), "written back: {}", c.to_value());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_sdes_arbitrary_lines(text in "[ -~]{0,120}") {
        check_line(text.as_bytes())?;
    }

    #[test]
    fn fuzz_sdes_mutated_lines(bytes in mutated_one_of(lines(), 6)) {
        check_line(&bytes)?;
    }
}
