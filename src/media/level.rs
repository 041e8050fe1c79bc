//! Signal level of a block of 16-bit PCM: RMS and dBFS, for energy checks and tests.

/// Root mean square of the samples (0.0 for an empty slice).
pub fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / pcm.len() as f64).sqrt()
}

/// RMS level relative to full scale (32768), in dB: 0 dBFS is a full-scale square wave, a
/// full-scale sine is about -3 dBFS. Silence and empty slices give `f64::NEG_INFINITY`.
pub fn dbfs(pcm: &[i16]) -> f64 {
    let r = rms(pcm);
    if r == 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * (r / 32768.0).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_empty_input_have_no_level() {
        assert_eq!(rms(&[]), 0.0);
        assert_eq!(rms(&[0; 160]), 0.0);
        assert_eq!(dbfs(&[]), f64::NEG_INFINITY);
        assert_eq!(dbfs(&[0; 160]), f64::NEG_INFINITY);
    }

    #[test]
    fn full_scale_square_wave_is_zero_dbfs() {
        let square: Vec<i16> = (0..160)
            .map(|i| if i % 2 == 0 { i16::MIN } else { i16::MAX })
            .collect();
        assert!((rms(&square) - 32767.5).abs() < 1.0);
        assert!(dbfs(&square).abs() < 0.01);
    }

    #[test]
    fn sine_is_three_db_below_its_peak() {
        let sine: Vec<i16> = (0..8000)
            .map(|i| {
                (16384.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        assert!((rms(&sine) - 16384.0 / 2f64.sqrt()).abs() < 5.0);
        assert!((dbfs(&sine) - (-9.03)).abs() < 0.05);
    }
}
