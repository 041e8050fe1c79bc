//! Quantiser tests: block layouts on inputs worked out by hand, error bounds on a spread of
//! values, the file pass on a hand-built ggml file, and the real model loading in whisper.cpp.

use super::*;
use std::path::PathBuf;

fn f16_bits(v: f32) -> [u8; 2] {
    half::f16::from_f32(v).to_le_bytes()
}

/// Deterministic values in [-scale, scale), with an offset per block so blocks differ.
fn spread(n: usize, scale: f32) -> Vec<f32> {
    let mut s = 0x2545_f491_u32;
    (0..n)
        .map(|i| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let u = (s >> 8) as f32 / (1u32 << 24) as f32;
            (u * 2.0 - 1.0) * scale + (i / BLOCK) as f32 * 0.01
        })
        .collect()
}

#[test]
fn q8_0_block_is_an_f16_scale_then_32_signed_bytes() {
    let x: Vec<f32> = (0..32).map(|j| j as f32 - 16.0).collect();
    let mut out = Vec::new();
    quantize_q8_0(&x, &mut out);
    assert_eq!(out.len(), 34);
    assert_eq!(out[..2], f16_bits(16.0 / 127.0));
    // id = 127/16 exactly: -16 → -127, 0 → 0, 15 → 119.0625 → 119.
    assert_eq!(out[2] as i8, -127);
    assert_eq!(out[2 + 16] as i8, 0);
    assert_eq!(out[2 + 31] as i8, 119);
}

#[test]
fn q8_0_halves_round_away_from_zero_like_roundf() {
    let mut x = vec![0.0f32; 32];
    x[..4].copy_from_slice(&[127.0, 2.5, -2.5, 0.5]);
    let mut out = Vec::new();
    quantize_q8_0(&x, &mut out);
    assert_eq!(out[..2], f16_bits(1.0));
    let q: Vec<i8> = out[2..6].iter().map(|&b| b as i8).collect();
    assert_eq!(q, [127, 3, -3, 1]);
}

#[test]
fn q5_1_block_is_scale_min_fifth_bits_then_nibbles() {
    let x: Vec<f32> = (0..32).map(|j| j as f32).collect();
    let mut out = Vec::new();
    quantize_q5_1(&x, &mut out);
    assert_eq!(out.len(), 24);
    assert_eq!(out[..2], f16_bits(1.0), "d = (31 - 0) / 31");
    assert_eq!(out[2..4], f16_bits(0.0), "m = min");
    // Values 16..31 have the fifth bit set: bits 16..31 of qh.
    assert_eq!(out[4..8], 0xffff_0000u32.to_le_bytes());
    for j in 0..16u8 {
        assert_eq!(
            out[8 + j as usize],
            j | (j << 4),
            "value {j} low, {} high",
            j + 16
        );
    }
}

#[test]
fn constant_blocks_store_a_zero_scale() {
    let mut out = Vec::new();
    quantize_q8_0(&[0.0; 32], &mut out);
    assert!(out.iter().all(|&b| b == 0));
    out.clear();
    quantize_q5_1(&[-0.75; 32], &mut out);
    assert_eq!(out[..2], f16_bits(0.0));
    assert_eq!(out[2..4], f16_bits(-0.75));
    assert!(out[4..].iter().all(|&b| b == 0));
}

#[test]
fn q8_0_round_trip_error_is_within_half_a_step() {
    let x = spread(32 * 64, 0.3);
    let mut blocks = Vec::new();
    quantize_q8_0(&x, &mut blocks);
    assert_eq!(blocks.len(), 64 * 34);
    let mut back = Vec::new();
    dequantize_q8_0(&blocks, &mut back);
    for (b, (xs, ys)) in x.chunks(32).zip(back.chunks(32)).enumerate() {
        let amax = xs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // Half a step, plus the f16 rounding of the scale times the largest code.
        let bound = amax / 127.0 * (0.5 + 127.0 / 2048.0);
        for (a, y) in xs.iter().zip(ys) {
            assert!((a - y).abs() <= bound, "block {b}: {a} came back {y}");
        }
    }
}

#[test]
fn q5_1_round_trip_error_is_within_half_a_step() {
    let x = spread(32 * 64, 0.3);
    let mut blocks = Vec::new();
    quantize_q5_1(&x, &mut blocks);
    assert_eq!(blocks.len(), 64 * 24);
    let mut back = Vec::new();
    dequantize_q5_1(&blocks, &mut back);
    for (b, (xs, ys)) in x.chunks(32).zip(back.chunks(32)).enumerate() {
        let min = xs.iter().fold(f32::MAX, |m, &v| m.min(v));
        let max = xs.iter().fold(f32::MIN, |m, &v| m.max(v));
        let d = (max - min) / 31.0;
        let bound = d * (0.5 + 31.0 / 2048.0) + min.abs() / 2048.0 + 1e-6;
        for (a, y) in xs.iter().zip(ys) {
            assert!((a - y).abs() <= bound, "block {b}: {a} came back {y}");
        }
    }
}

/// A small ggml whisper file: header, a two-band filterbank, two tokens, then `tensors`
/// (name, dims innermost first, type 0/1, values).
fn ggml_file(ftype: i32, tensors: &[(&str, Vec<usize>, i32, Vec<f32>)]) -> Vec<u8> {
    let mut b = Vec::new();
    let i = |v: i32, b: &mut Vec<u8>| b.extend_from_slice(&v.to_le_bytes());
    i(GGML_MAGIC, &mut b);
    for v in [6, 3, 4, 2, 1, 2, 4, 2, 1, 2] {
        i(v, &mut b);
    }
    i(ftype, &mut b);
    i(2, &mut b);
    i(3, &mut b);
    for k in 0..6 {
        b.extend_from_slice(&(k as f32 / 8.0).to_le_bytes());
    }
    i(2, &mut b);
    for t in [&b"a"[..], "人".as_bytes()] {
        i(t.len() as i32, &mut b);
        b.extend_from_slice(t);
    }
    for (name, dims, ttype, values) in tensors {
        i(dims.len() as i32, &mut b);
        i(name.len() as i32, &mut b);
        i(*ttype, &mut b);
        for &d in dims {
            i(d as i32, &mut b);
        }
        b.extend_from_slice(name.as_bytes());
        for &v in values {
            if *ttype == 0 {
                b.extend_from_slice(&v.to_le_bytes());
            } else {
                b.extend_from_slice(&f16_bits(v));
            }
        }
    }
    b
}

fn quantize_bytes(input: &[u8], qtype: QuantType) -> Result<(Vec<u8>, QuantizeStats), ModelError> {
    let mut out = Vec::new();
    let stats = quantize_model(
        input,
        qtype,
        &mut out,
        Path::new("in.bin"),
        Path::new("out.bin"),
    )?;
    Ok((out, stats))
}

#[test]
fn weight_matrices_are_quantised_and_the_rest_copied_as_whisper_cpp_does() {
    let weights: Vec<f32> = (0..64).map(|j| (j as f32 - 30.0) / 64.0).collect();
    let tensors = [
        ("encoder.conv1.weight", vec![3, 2, 4], 1, vec![0.5; 24]),
        ("encoder.conv1.bias", vec![1, 4], 0, vec![0.25; 4]),
        (
            "encoder.positional_embedding",
            vec![32, 3],
            0,
            vec![0.125; 96],
        ),
        (
            "decoder.blocks.0.attn.query.weight",
            vec![32, 2],
            1,
            weights.clone(),
        ),
        (
            "decoder.blocks.0.attn.query.bias",
            vec![2],
            0,
            vec![1.0, 2.0],
        ),
    ];
    let input = ggml_file(1, &tensors);
    let (out, stats) = quantize_bytes(&input, QuantType::Q8_0).expect("quantises");
    assert_eq!(stats.quantized, 1);
    assert_eq!(stats.copied, 4);
    assert_eq!(stats.bytes, out.len() as u64);
    // Header: ftype 2007 (version 2, MOSTLY_Q8_0); everything else byte for byte.
    assert_eq!(out[44..48], 2007i32.to_le_bytes());
    assert_eq!(out[..44], input[..44]);
    // Up to the quantised tensor, only the ftype differs.
    let start = input.len() - (12 + 8 + 34 + 64 * 2) - (12 + 4 + 32 + 8);
    assert_eq!(out[48..start], input[48..start]);
    // The quantised tensor: type 8, same dims and name, two q8_0 blocks.
    let t = &out[start..];
    assert_eq!(t[..4], 2i32.to_le_bytes());
    assert_eq!(t[8..12], QuantType::Q8_0.ggml_type().to_le_bytes());
    let data = &t[12 + 8 + 34..12 + 8 + 34 + 2 * 34];
    let mut expected = Vec::new();
    quantize_q8_0(&weights, &mut expected);
    assert_eq!(data, expected.as_slice());
    // The 1-D bias after it is copied as it was.
    assert_eq!(out[out.len() - 8..], input[input.len() - 8..]);
}

#[test]
fn q5_1_file_says_ftype_2009_and_tensor_type_7() {
    let tensors = [(
        "decoder.token_embedding.weight",
        vec![32, 1],
        1,
        vec![0.5; 32],
    )];
    let (out, stats) = quantize_bytes(&ggml_file(1, &tensors), QuantType::Q5_1).expect("ok");
    assert_eq!(stats.quantized, 1);
    assert_eq!(out[44..48], 2009i32.to_le_bytes());
    let t = out.len() - (12 + 8 + 30 + 24);
    assert_eq!(out[t + 8..t + 12], 7i32.to_le_bytes());
}

#[test]
fn rows_that_do_not_fill_whole_blocks_are_refused_with_the_tensor_name() {
    let tensors = [(
        "decoder.blocks.0.mlp.0.weight",
        vec![20, 2],
        1,
        vec![0.5; 40],
    )];
    let err = quantize_bytes(&ggml_file(1, &tensors), QuantType::Q8_0).expect_err("20 rows");
    assert!(
        err.to_string().contains("decoder.blocks.0.mlp.0.weight"),
        "{err}"
    );
}

#[test]
fn an_already_quantised_model_is_refused() {
    let err = quantize_bytes(&ggml_file(2007, &[]), QuantType::Q5_1).expect_err("q8_0 input");
    assert!(err.to_string().contains("already quantised"), "{err}");
}

#[test]
fn a_file_cut_short_is_an_error_not_a_panic() {
    let tensors = [(
        "decoder.token_embedding.weight",
        vec![32, 1],
        1,
        vec![0.5; 32],
    )];
    let input = ggml_file(1, &tensors);
    for cut in [3, 30, 60, input.len() - 1] {
        let err = quantize_bytes(&input[..cut], QuantType::Q8_0).expect_err("cut");
        assert!(
            matches!(err, ModelError::Ggml { .. }),
            "cut at {cut}: {err}"
        );
    }
}

/// The installed f16 model, or `None` (with a note) when it is not there; with
/// `HUMANLINE_REQUIRE_MODEL` set a missing model fails instead.
fn installed_model() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/ggml-base.bin");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("HUMANLINE_REQUIRE_MODEL").is_none(),
        "HUMANLINE_REQUIRE_MODEL is set but {} is missing: run `make model`",
        path.display()
    );
    eprintln!("SKIPPED: {} is missing (run `make model`)", path.display());
    None
}

#[test]
fn quantised_base_model_loads_in_whisper_and_still_hears_the_caller() {
    use crate::asr::{upsample_8k_to_16k, RecognizeOptions, Recognizer, WhisperRecognizer};
    let Some(model) = installed_model() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/billing_en.wav");
    let pcm: Vec<i16> = hound::WavReader::open(&wav)
        .expect("clip")
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("samples");
    let pcm16 = upsample_8k_to_16k(&pcm).expect("resample");
    for qtype in [QuantType::Q8_0, QuantType::Q5_1] {
        let out = dir.path().join(format!("{qtype:?}.bin"));
        let input = std::io::BufReader::new(std::fs::File::open(&model).expect("model"));
        let file = std::io::BufWriter::new(std::fs::File::create(&out).expect("create"));
        let stats = quantize_model(input, qtype, file, &model, &out).expect("quantises");
        // Whisper base: 4 conv/positional tensors skipped, 1-D and 3-D tensors copied.
        assert!(stats.quantized > 60, "{stats:?}");
        let rec = WhisperRecognizer::load(&out, 2).expect("whisper.cpp loads it");
        let opts = RecognizeOptions {
            language: Some("en".into()),
            initial_prompt: None,
            audio_ctx: Some(256),
            ..Default::default()
        };
        let text = rec.transcribe(&pcm16, &opts).expect("transcribes").text;
        assert!(
            text.to_lowercase().contains("person"),
            "{qtype:?} heard {text:?}"
        );
    }
}
