//! The name map from CTranslate2's whisper variables to the tensors whisper.cpp loads, and the
//! full list of those tensors with their shapes, so a conversion can prove it wrote each one.

use super::error::ModelError;
use super::hparams::Hparams;
use std::collections::BTreeMap;

fn tensor_error(name: &str, message: String) -> ModelError {
    ModelError::Tensor {
        name: name.to_string(),
        message,
    }
}

/// The ggml names a CTranslate2 variable becomes. Fused projections become several tensors,
/// split along the rows in order; a `None` part is dropped (the attention key has no bias).
pub fn map_name(ct2: &str) -> Result<Vec<Option<String>>, ModelError> {
    let unknown = || tensor_error(ct2, "no ggml name for this variable".into());
    let (side, rest) = ct2.split_once('/').ok_or_else(unknown)?;
    if side != "encoder" && side != "decoder" {
        return Err(unknown());
    }
    let one = |s: String| Ok(vec![Some(s)]);
    let param = |p: &str| -> Option<&'static str> {
        match p {
            "weight" | "gamma" => Some("weight"),
            "bias" | "beta" => Some("bias"),
            _ => None,
        }
    };
    match rest {
        "position_encodings/encodings" => return one(format!("{side}.positional_embedding")),
        "embeddings/weight" if side == "decoder" => {
            return one("decoder.token_embedding.weight".into())
        }
        _ => {}
    }
    if let Some(conv) = rest
        .strip_prefix("conv1/")
        .map(|p| ("conv1", p))
        .or_else(|| rest.strip_prefix("conv2/").map(|p| ("conv2", p)))
    {
        if side == "encoder" {
            let p = param(conv.1).ok_or_else(unknown)?;
            return one(format!("encoder.{}.{p}", conv.0));
        }
        return Err(unknown());
    }
    if let Some(p) = rest.strip_prefix("layer_norm/") {
        let p = param(p).ok_or_else(unknown)?;
        let ln = if side == "encoder" { "ln_post" } else { "ln" };
        return one(format!("{side}.{ln}.{p}"));
    }
    let rest = rest.strip_prefix("layer_").ok_or_else(unknown)?;
    let (index, rest) = rest.split_once('/').ok_or_else(unknown)?;
    let layer: usize = index.parse().map_err(|_| unknown())?;
    let (module, p) = rest.rsplit_once('/').ok_or_else(unknown)?;
    let p = param(p).ok_or_else(unknown)?;
    let block = format!("{side}.blocks.{layer}");
    let bias = p == "bias";
    let name = |m: &str| Some(format!("{block}.{m}.{p}"));
    Ok(match module {
        "self_attention/linear_0" => vec![
            name("attn.query"),
            if bias { None } else { name("attn.key") },
            name("attn.value"),
        ],
        "self_attention/linear_1" => vec![name("attn.out")],
        "self_attention/layer_norm" => vec![name("attn_ln")],
        "attention/linear_0" if side == "decoder" => vec![name("cross_attn.query")],
        "attention/linear_1" if side == "decoder" => vec![
            if bias { None } else { name("cross_attn.key") },
            name("cross_attn.value"),
        ],
        "attention/linear_2" if side == "decoder" => vec![name("cross_attn.out")],
        "attention/layer_norm" if side == "decoder" => vec![name("cross_attn_ln")],
        "ffn/linear_0" => vec![name("mlp.0")],
        "ffn/linear_1" => vec![name("mlp.2")],
        "ffn/layer_norm" => vec![name("mlp_ln")],
        _ => return Err(unknown()),
    })
}

/// Every tensor whisper.cpp loads for a model of shape `hp`, with its PyTorch shape
/// (outermost first).
pub fn expected_tensors(hp: &Hparams) -> BTreeMap<String, Vec<usize>> {
    let mut t = BTreeMap::new();
    let (a, v) = (hp.n_audio_state, hp.n_text_state);
    t.insert("encoder.conv1.weight".into(), vec![a, hp.n_mels, 3]);
    t.insert("encoder.conv1.bias".into(), vec![a, 1]);
    t.insert("encoder.conv2.weight".into(), vec![a, a, 3]);
    t.insert("encoder.conv2.bias".into(), vec![a, 1]);
    t.insert(
        "encoder.positional_embedding".into(),
        vec![hp.n_audio_ctx, a],
    );
    t.insert("encoder.ln_post.weight".into(), vec![a]);
    t.insert("encoder.ln_post.bias".into(), vec![a]);
    t.insert("decoder.token_embedding.weight".into(), vec![hp.n_vocab, v]);
    t.insert(
        "decoder.positional_embedding".into(),
        vec![hp.n_text_ctx, v],
    );
    t.insert("decoder.ln.weight".into(), vec![v]);
    t.insert("decoder.ln.bias".into(), vec![v]);
    let mut block = |side: &str, i: usize, s: usize, cross: bool| {
        let mut attn = |m: &str| {
            for (part, bias) in [
                ("query", true),
                ("key", false),
                ("value", true),
                ("out", true),
            ] {
                t.insert(format!("{side}.blocks.{i}.{m}.{part}.weight"), vec![s, s]);
                if bias {
                    t.insert(format!("{side}.blocks.{i}.{m}.{part}.bias"), vec![s]);
                }
            }
            t.insert(format!("{side}.blocks.{i}.{m}_ln.weight"), vec![s]);
            t.insert(format!("{side}.blocks.{i}.{m}_ln.bias"), vec![s]);
        };
        attn("attn");
        if cross {
            attn("cross_attn");
        }
        t.insert(format!("{side}.blocks.{i}.mlp.0.weight"), vec![4 * s, s]);
        t.insert(format!("{side}.blocks.{i}.mlp.0.bias"), vec![4 * s]);
        t.insert(format!("{side}.blocks.{i}.mlp.2.weight"), vec![s, 4 * s]);
        t.insert(format!("{side}.blocks.{i}.mlp.2.bias"), vec![s]);
        t.insert(format!("{side}.blocks.{i}.mlp_ln.weight"), vec![s]);
        t.insert(format!("{side}.blocks.{i}.mlp_ln.bias"), vec![s]);
    };
    for i in 0..hp.n_audio_layer {
        block("encoder", i, a, false);
    }
    for i in 0..hp.n_text_layer {
        block("decoder", i, v, true);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::convert::hparams::WHISPER_BASE;

    fn names(ct2: &str) -> Vec<Option<String>> {
        map_name(ct2).unwrap_or_else(|e| panic!("{ct2}: {e}"))
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn whisper_base_has_245_tensors() {
        assert_eq!(expected_tensors(&WHISPER_BASE).len(), 245);
    }

    #[test]
    fn fused_self_attention_splits_into_query_key_value() {
        assert_eq!(
            names("encoder/layer_2/self_attention/linear_0/weight"),
            some(&[
                "encoder.blocks.2.attn.query.weight",
                "encoder.blocks.2.attn.key.weight",
                "encoder.blocks.2.attn.value.weight"
            ])
        );
        assert_eq!(
            names("decoder/layer_0/self_attention/linear_0/bias"),
            vec![
                Some("decoder.blocks.0.attn.query.bias".into()),
                None,
                Some("decoder.blocks.0.attn.value.bias".into())
            ]
        );
    }

    #[test]
    fn cross_attention_key_value_split_drops_the_key_bias() {
        assert_eq!(
            names("decoder/layer_5/attention/linear_1/bias"),
            vec![None, Some("decoder.blocks.5.cross_attn.value.bias".into())]
        );
        assert_eq!(
            names("decoder/layer_5/attention/linear_1/weight"),
            some(&[
                "decoder.blocks.5.cross_attn.key.weight",
                "decoder.blocks.5.cross_attn.value.weight"
            ])
        );
        assert_eq!(
            names("decoder/layer_5/attention/linear_0/weight"),
            some(&["decoder.blocks.5.cross_attn.query.weight"])
        );
        assert_eq!(
            names("decoder/layer_5/attention/linear_2/bias"),
            some(&["decoder.blocks.5.cross_attn.out.bias"])
        );
        assert_eq!(
            names("decoder/layer_5/attention/layer_norm/gamma"),
            some(&["decoder.blocks.5.cross_attn_ln.weight"])
        );
    }

    #[test]
    fn plain_renames_follow_the_pytorch_names() {
        for (ct2, ggml) in [
            ("encoder/conv1/weight", "encoder.conv1.weight"),
            ("encoder/conv2/bias", "encoder.conv2.bias"),
            (
                "encoder/position_encodings/encodings",
                "encoder.positional_embedding",
            ),
            (
                "decoder/position_encodings/encodings",
                "decoder.positional_embedding",
            ),
            (
                "decoder/embeddings/weight",
                "decoder.token_embedding.weight",
            ),
            ("encoder/layer_norm/gamma", "encoder.ln_post.weight"),
            ("decoder/layer_norm/beta", "decoder.ln.bias"),
            (
                "encoder/layer_1/self_attention/linear_1/weight",
                "encoder.blocks.1.attn.out.weight",
            ),
            (
                "encoder/layer_1/self_attention/layer_norm/beta",
                "encoder.blocks.1.attn_ln.bias",
            ),
            (
                "encoder/layer_1/ffn/linear_0/bias",
                "encoder.blocks.1.mlp.0.bias",
            ),
            (
                "encoder/layer_1/ffn/linear_1/weight",
                "encoder.blocks.1.mlp.2.weight",
            ),
            (
                "decoder/layer_3/ffn/layer_norm/gamma",
                "decoder.blocks.3.mlp_ln.weight",
            ),
        ] {
            assert_eq!(names(ct2), some(&[ggml]), "{ct2}");
        }
    }

    #[test]
    fn every_mapped_name_is_a_whisper_tensor() {
        let expected = expected_tensors(&WHISPER_BASE);
        let mut seen = 0;
        for side in ["encoder", "decoder"] {
            for l in 0..6 {
                let mut modules = vec![
                    "self_attention/linear_0",
                    "self_attention/linear_1",
                    "self_attention/layer_norm",
                    "ffn/linear_0",
                    "ffn/linear_1",
                    "ffn/layer_norm",
                ];
                if side == "decoder" {
                    modules.extend([
                        "attention/linear_0",
                        "attention/linear_1",
                        "attention/linear_2",
                        "attention/layer_norm",
                    ]);
                }
                for m in modules {
                    let params: &[&str] = if m.ends_with("layer_norm") {
                        &["gamma", "beta"]
                    } else {
                        &["weight", "bias"]
                    };
                    for p in params {
                        for n in names(&format!("{side}/layer_{l}/{m}/{p}"))
                            .into_iter()
                            .flatten()
                        {
                            assert!(expected.contains_key(&n), "{n}");
                            seen += 1;
                        }
                    }
                }
            }
        }
        // 6 × 15 encoder + 6 × 24 decoder block tensors.
        assert_eq!(seen, 6 * 15 + 6 * 24);
    }

    #[test]
    fn unknown_variables_are_refused_with_their_name() {
        for bad in [
            "encoder/layer_0/attention/linear_0/weight",
            "decoder/conv1/weight",
            "encoder/layer_x/ffn/linear_0/weight",
            "encoder/layer_0/ffn/linear_0/scale",
            "projection/weight",
        ] {
            let err = map_name(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
