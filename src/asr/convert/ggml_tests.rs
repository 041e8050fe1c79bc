//! Converter tests on a whisper of toy size built by hand: every tensor, tiny shapes.

use super::*;
use crate::asr::convert::ct2::write_model;
use std::collections::BTreeMap;

const TINY: Hparams = Hparams {
    n_vocab: 6,
    n_audio_ctx: 3,
    n_audio_state: 4,
    n_audio_head: 2,
    n_audio_layer: 1,
    n_text_ctx: 2,
    n_text_state: 4,
    n_text_head: 2,
    n_text_layer: 1,
    n_mels: 2,
    ftype: 1,
};

/// "a", " b", "人", "" then the special tokens: 4 byte-level tokens.
const VOCAB: &str = "a\nĠb\näºº\n\n<|endoftext|>\n<|startoftranscript|>\n";

/// f16 data counting up from `start` (exact in f16 for small integers / 4).
fn f16_data(n: usize, start: f32) -> Vec<u8> {
    (0..n)
        .flat_map(|i| half::f16::from_f32(start + i as f32 / 4.0).to_le_bytes())
        .collect()
}

/// The CTranslate2 variables of the tiny model, minus those named in `skip`.
fn tiny_vars(skip: &[&str]) -> Vec<(String, Vec<usize>, DType, Vec<u8>)> {
    let s = 4;
    let mut v: Vec<(String, Vec<usize>)> = vec![
        ("encoder/conv1/weight".into(), vec![s, 2, 3]),
        ("encoder/conv1/bias".into(), vec![s]),
        ("encoder/conv2/weight".into(), vec![s, s, 3]),
        ("encoder/conv2/bias".into(), vec![s]),
        ("encoder/position_encodings/encodings".into(), vec![3, s]),
        ("encoder/layer_norm/gamma".into(), vec![s]),
        ("encoder/layer_norm/beta".into(), vec![s]),
        ("decoder/embeddings/weight".into(), vec![6, s]),
        ("decoder/position_encodings/encodings".into(), vec![2, s]),
        ("decoder/layer_norm/gamma".into(), vec![s]),
        ("decoder/layer_norm/beta".into(), vec![s]),
    ];
    for side in ["encoder", "decoder"] {
        let l = format!("{side}/layer_0");
        let mut add = |m: &str, rows: usize, cols: usize| {
            v.push((format!("{l}/{m}/weight"), vec![rows, cols]));
            v.push((format!("{l}/{m}/bias"), vec![rows]));
        };
        add("self_attention/linear_0", 3 * s, s);
        add("self_attention/linear_1", s, s);
        add("ffn/linear_0", 4 * s, s);
        add("ffn/linear_1", s, 4 * s);
        if side == "decoder" {
            add("attention/linear_0", s, s);
            add("attention/linear_1", 2 * s, s);
            add("attention/linear_2", s, s);
        }
        let mut norms = vec!["self_attention/layer_norm", "ffn/layer_norm"];
        if side == "decoder" {
            norms.push("attention/layer_norm");
        }
        for m in norms {
            v.push((format!("{l}/{m}/gamma"), vec![s]));
            v.push((format!("{l}/{m}/beta"), vec![s]));
        }
    }
    let mut out: Vec<(String, Vec<usize>, DType, Vec<u8>)> = vec![
        ("decoder/activation".into(), vec![], DType::I8, vec![3]),
        ("encoder/num_heads".into(), vec![], DType::I16, vec![2, 0]),
    ];
    out.extend(
        v.into_iter()
            .filter(|(n, _)| !skip.contains(&n.as_str()))
            .map(|(n, d)| {
                let count = d.iter().product();
                (n, d, DType::F16, f16_data(count, 0.0))
            }),
    );
    out
}

fn model_bytes(vars: &[(String, Vec<usize>, DType, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[usize], DType, Vec<u8>)> = vars
        .iter()
        .map(|(n, d, t, b)| (n.as_str(), d.as_slice(), *t, b.clone()))
        .collect();
    write_model(
        "WhisperSpec",
        &refs,
        &[("decoder/projection/weight", "decoder/embeddings/weight")],
    )
}

/// A tensor read back from a ggml file.
#[derive(Debug)]
struct Tensor {
    dims: Vec<usize>, // as stored: innermost first
    f32: bool,
    data: Vec<u8>,
}

/// A ggml file read back: hparams, filter shape, tokens and tensors by name.
type Parsed = (Vec<i32>, (i32, i32), Vec<Vec<u8>>, BTreeMap<String, Tensor>);

/// Reads a ggml file back.
fn parse(b: &[u8]) -> Parsed {
    let mut p = 0;
    let i32_at = |p: &mut usize| {
        let v = i32::from_le_bytes(b[*p..*p + 4].try_into().expect("4 bytes"));
        *p += 4;
        v
    };
    assert_eq!(i32_at(&mut p), GGML_MAGIC);
    let hp: Vec<i32> = (0..11).map(|_| i32_at(&mut p)).collect();
    let filt = (i32_at(&mut p), i32_at(&mut p));
    p += (filt.0 * filt.1 * 4) as usize;
    let n_tokens = i32_at(&mut p);
    let mut tokens = Vec::new();
    for _ in 0..n_tokens {
        let len = i32_at(&mut p) as usize;
        tokens.push(b[p..p + len].to_vec());
        p += len;
    }
    let mut tensors = BTreeMap::new();
    while p < b.len() {
        let rank = i32_at(&mut p) as usize;
        let name_len = i32_at(&mut p) as usize;
        let ftype = i32_at(&mut p);
        let dims: Vec<usize> = (0..rank).map(|_| i32_at(&mut p) as usize).collect();
        let name = String::from_utf8(b[p..p + name_len].to_vec()).expect("utf-8 name");
        p += name_len;
        let n = dims.iter().product::<usize>() * if ftype == 0 { 4 } else { 2 };
        let data = b[p..p + n].to_vec();
        p += n;
        assert!(
            tensors
                .insert(
                    name.clone(),
                    Tensor {
                        dims,
                        f32: ftype == 0,
                        data
                    }
                )
                .is_none(),
            "{name} twice"
        );
    }
    (hp, filt, tokens, tensors)
}

fn convert_tiny(
    vars: &[(String, Vec<usize>, DType, Vec<u8>)],
    vocab: &str,
) -> Result<(ConvertStats, Vec<u8>), ModelError> {
    let mut out = Vec::new();
    let stats = convert(
        &model_bytes(vars)[..],
        vocab,
        &TINY,
        &mut out,
        Path::new("tiny.bin"),
    )?;
    Ok((stats, out))
}

#[test]
fn tiny_model_converts_to_every_whisper_tensor() {
    let (stats, out) = convert_tiny(&tiny_vars(&[]), VOCAB).expect("convert");
    assert_eq!(stats.bytes, out.len() as u64);
    assert_eq!(stats.tokens, 4);
    let (hp, filt, tokens, tensors) = parse(&out);
    assert_eq!(hp, [6, 3, 4, 2, 1, 2, 4, 2, 1, 2, 1]);
    assert_eq!(filt, (2, 201));
    assert_eq!(
        tokens,
        [
            b"a".to_vec(),
            b" b".to_vec(),
            "人".as_bytes().to_vec(),
            vec![]
        ]
    );
    assert_eq!(stats.tensors, expected_tensors(&TINY).len());
    assert_eq!(tensors.len(), stats.tensors);
}

#[test]
fn small_tensors_are_f32_and_weights_stay_f16() {
    let (_, out) = convert_tiny(&tiny_vars(&[]), VOCAB).expect("convert");
    let (_, _, _, t) = parse(&out);
    let conv_bias = &t["encoder.conv1.bias"];
    assert_eq!(conv_bias.dims, [1, 4], "conv bias is stored as [n, 1]");
    assert!(conv_bias.f32);
    assert!(t["encoder.positional_embedding"].f32);
    assert!(t["decoder.positional_embedding"].f32);
    assert!(t["decoder.ln.weight"].f32);
    assert!(!t["encoder.conv1.weight"].f32);
    assert_eq!(t["encoder.conv1.weight"].dims, [3, 2, 4]);
    assert!(!t["decoder.token_embedding.weight"].f32);
    assert_eq!(t["decoder.token_embedding.weight"].dims, [4, 6]);
    // f16 → f32 keeps the values: 0, 0.25, 0.5, 0.75.
    let vals: Vec<f32> = conv_bias
        .data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
        .collect();
    assert_eq!(vals, [0.0, 0.25, 0.5, 0.75]);
}

#[test]
fn fused_projections_split_by_rows_and_key_bias_is_dropped() {
    let (_, out) = convert_tiny(&tiny_vars(&[]), VOCAB).expect("convert");
    let (_, _, _, t) = parse(&out);
    let fused_w = f16_data(12 * 4, 0.0);
    let q = &t["encoder.blocks.0.attn.query.weight"];
    let k = &t["encoder.blocks.0.attn.key.weight"];
    let v = &t["encoder.blocks.0.attn.value.weight"];
    assert_eq!(q.dims, [4, 4]);
    assert_eq!(q.data, fused_w[..32]);
    assert_eq!(k.data, fused_w[32..64]);
    assert_eq!(v.data, fused_w[64..]);
    assert!(!t.contains_key("encoder.blocks.0.attn.key.bias"));
    let vb: Vec<f32> = t["encoder.blocks.0.attn.value.bias"]
        .data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
        .collect();
    assert_eq!(
        vb,
        [2.0, 2.25, 2.5, 2.75],
        "third quarter-steps of 0..12 rows"
    );
    let cv: Vec<f32> = t["decoder.blocks.0.cross_attn.value.bias"]
        .data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
        .collect();
    assert_eq!(cv, [1.0, 1.25, 1.5, 1.75]);
    assert!(!t.contains_key("decoder.blocks.0.cross_attn.key.bias"));
}

#[test]
fn a_missing_variable_fails_the_conversion_and_names_the_tensor() {
    let err = convert_tiny(&tiny_vars(&["decoder/layer_norm/beta"]), VOCAB).expect_err("missing");
    assert!(err.to_string().contains("decoder.ln.bias"), "{err}");
}

#[test]
fn a_vocabulary_off_by_one_is_refused() {
    let err = convert_tiny(
        &tiny_vars(&[]),
        "x\na\nĠb\näºº\n\n<|endoftext|>\n<|startoftranscript|>\n",
    )
    .expect_err("7 lines");
    assert!(
        err.to_string()
            .contains("7 entries, the model has 6 tokens"),
        "{err}"
    );
}

#[test]
fn a_wrong_head_count_is_refused() {
    let mut vars = tiny_vars(&[]);
    vars[1].3 = vec![8, 0];
    let err = convert_tiny(&vars, VOCAB).expect_err("8 heads");
    assert!(err.to_string().contains("encoder/num_heads"), "{err}");
}

#[test]
fn a_shape_that_does_not_fit_the_hparams_is_refused() {
    let mut vars = tiny_vars(&[]);
    let i = vars
        .iter()
        .position(|v| v.0 == "decoder/embeddings/weight")
        .expect("embeddings");
    vars[i] = (
        "decoder/embeddings/weight".into(),
        vec![7, 4],
        DType::F16,
        f16_data(28, 0.0),
    );
    let err = convert_tiny(&vars, VOCAB).expect_err("7 rows");
    assert!(err.to_string().contains("whisper needs [6, 4]"), "{err}");
}
