//! The mel filterbank whisper's front end expects, computed here instead of shipped: librosa's
//! `filters.mel(sr, n_fft, n_mels)` with its defaults (`fmin = 0`, `fmax = sr / 2`, Slaney mel
//! scale, Slaney area normalisation). OpenAI's `mel_filters.npz` is exactly that matrix, and
//! whisper.cpp reads it from the model file, so any difference here would shift every feature.
//!
//! Arithmetic is in f64 like librosa's; the result is rounded to f32 once, at the end.

/// Frequency below which the Slaney scale is linear (Hz).
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;
/// Width of one mel in the linear part (Hz): 200/3, so 1000 Hz is mel 15.
const SLANEY_F_SP: f64 = 200.0 / 3.0;

/// Mel value where the log part of the Slaney scale starts (15).
fn min_log_mel() -> f64 {
    SLANEY_MIN_LOG_HZ / SLANEY_F_SP
}

/// Log step of the Slaney scale: 27 mels per factor 6.4 above 1 kHz.
fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hertz to mel on the Slaney scale (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= SLANEY_MIN_LOG_HZ {
        min_log_mel() + (hz / SLANEY_MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / SLANEY_F_SP
    }
}

/// Mel to hertz on the Slaney scale (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= min_log_mel() {
        SLANEY_MIN_LOG_HZ * (log_step() * (mel - min_log_mel())).exp()
    } else {
        SLANEY_F_SP * mel
    }
}

/// The `n_mels + 2` band edges (Hz): evenly spaced in mel from 0 to `sr / 2`. Filter `i` rises
/// from edge `i` to its peak at edge `i + 1` and falls to zero at edge `i + 2`.
pub fn band_edges(sample_rate: u32, n_mels: usize) -> Vec<f64> {
    let top = hz_to_mel(f64::from(sample_rate) / 2.0);
    let n = n_mels + 2;
    (0..n)
        .map(|i| mel_to_hz(top * i as f64 / (n - 1) as f64))
        .collect()
}

/// The filterbank as `n_mels` rows of `n_fft / 2 + 1` weights, row-major: triangular filters on
/// the Slaney mel scale, each scaled by `2 / (f_hi - f_lo)` so that every filter has the same
/// area (librosa `norm="slaney"`).
pub fn filterbank(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let edges = band_edges(sample_rate, n_mels);
    let bin_hz = f64::from(sample_rate) / n_fft as f64;
    let mut out = Vec::with_capacity(n_mels * n_bins);
    for m in 0..n_mels {
        let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for k in 0..n_bins {
            let f = k as f64 * bin_hz;
            // Same expression as librosa: min of the rising and falling ramps, clipped at 0.
            let lower = (f - lo) / (mid - lo);
            let upper = (hi - f) / (hi - mid);
            let w = lower.min(upper).max(0.0);
            out.push((w * enorm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 16000;
    const N_FFT: usize = 400;
    const N_MELS: usize = 80;
    const BINS: usize = 201;

    fn bank() -> Vec<f32> {
        filterbank(SR, N_FFT, N_MELS)
    }

    #[test]
    fn whisper_bank_is_80_rows_of_201_bins() {
        assert_eq!(bank().len(), N_MELS * BINS);
    }

    #[test]
    fn slaney_scale_is_linear_to_1khz_then_logarithmic() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        // 6.4 kHz is 27 mels above 1 kHz.
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }

    #[test]
    fn every_filter_is_a_triangle_peaking_at_its_mel_centre() {
        let b = bank();
        let edges = band_edges(SR, N_MELS);
        for m in 0..N_MELS {
            let row = &b[m * BINS..(m + 1) * BINS];
            assert!(
                row.iter().all(|&w| w >= 0.0),
                "filter {m} has a negative weight"
            );
            // Non-zero only strictly inside (f_lo, f_hi).
            for (k, &w) in row.iter().enumerate() {
                let f = k as f64 * 40.0;
                if f <= edges[m] || f >= edges[m + 2] {
                    assert_eq!(w, 0.0, "filter {m} bin {k} outside its band");
                }
            }
            // Rises to its maximum, then falls: unimodal.
            let peak = row
                .iter()
                .enumerate()
                .fold(0, |best, (k, &w)| if w > row[best] { k } else { best });
            assert!(
                row[..=peak].windows(2).all(|p| p[0] <= p[1]),
                "filter {m} rises"
            );
            assert!(
                row[peak..].windows(2).all(|p| p[0] >= p[1]),
                "filter {m} falls"
            );
            // The peak bin is one of the two bins around the centre frequency.
            let centre_bin = edges[m + 1] / 40.0;
            assert!(
                (peak as f64 - centre_bin).abs() <= 1.0,
                "filter {m}: peak at bin {peak}, centre at {centre_bin}"
            );
        }
    }

    #[test]
    fn filter_heights_follow_slaney_area_normalisation() {
        // A triangle of height 2/(f_hi - f_lo) has unit area; sampled at a bin exactly at its
        // centre it reaches that height. Check the height bound and the exact value at a
        // bin where the centre falls on the grid.
        let b = bank();
        let edges = band_edges(SR, N_MELS);
        for m in 0..N_MELS {
            let height = 2.0 / (edges[m + 2] - edges[m]);
            let row = &b[m * BINS..(m + 1) * BINS];
            let max = row.iter().cloned().fold(0.0f32, f32::max) as f64;
            assert!(max <= height * (1.0 + 1e-6), "filter {m}: {max} > {height}");
            assert!(max > 0.0, "filter {m} is empty");
        }
        // Below 1 kHz the scale is linear, so the low filters all have the same width and
        // the same height.
        let h0 = 2.0 / (edges[2] - edges[0]);
        let h1 = 2.0 / (edges[3] - edges[1]);
        assert!((h0 - h1).abs() < 1e-12);
    }

    #[test]
    fn known_values_match_librosa() {
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) (= whisper's mel_filters.npz):
        // the 82 edges are uniform in mel from 0 to hz_to_mel(8000) = 15 + ln 8 / (ln 6.4 / 27).
        let top = hz_to_mel(8000.0);
        assert!((top - 45.245_640_471_924_2).abs() < 1e-9, "{top}");
        let edges = band_edges(SR, N_MELS);
        assert!((edges[81] - 8000.0).abs() < 1e-6);
        // In the linear region one mel step is 200/3 * top / 81 = 37.24 Hz, so filter 0 spans
        // 0..74.48 Hz and only bin 1 (40 Hz, just past the peak) falls inside it:
        // (74.48 - 40) / 37.24 * 2 / 74.48 = 0.02486.
        let step_hz = SLANEY_F_SP * top / 81.0;
        assert!((edges[1] - step_hz).abs() < 1e-9);
        let b = bank();
        let expected = (2.0 * step_hz - 40.0) / step_hz * (2.0 / (2.0 * step_hz));
        assert!(
            (f64::from(b[1]) - expected).abs() < 1e-8,
            "{} vs {expected}",
            b[1]
        );
        assert!((b[1] - 0.024_86).abs() < 1e-5, "{}", b[1]);
        assert_eq!(b[0], 0.0);
        assert!(b[2..BINS].iter().all(|&w| w == 0.0));
        // The last filter ends at Nyquist: its last bin (8000 Hz) is zero, the one before is not.
        let last = &b[(N_MELS - 1) * BINS..];
        assert_eq!(last[BINS - 1], 0.0);
        assert!(last[BINS - 2] > 0.0);
    }
}
