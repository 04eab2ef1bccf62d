package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
/**
 * The {@code model:} section of an experiment config.
 *
 * @param path a Hugging Face model folder or a longctx checkpoint directory; empty means none
 * @param dtype compute precision: float32 (CPU) or float16 (GPU, with float32 master weights)
 * @param attentionChunk queries per attention chunk, bounding the score matrix to
 *     {@code chunk × L} per head; 0 chooses it per input so one chunk's scores stay under
 *     {@link LlamaModel#SCORE_BUDGET_ELEMENTS} values
 * @param init the architecture of a model trained from scratch ({@code train.recipe: pretrain}
 *     with an empty {@code path}); null when the model comes from {@code path}
 */
public record ModelConfig(String path, String dtype, int attentionChunk, Init init) {

  public ModelConfig {
    path = path == null ? "" : path;
    Precision.parse("dtype", dtype); // names the allowed values
    if (attentionChunk < 0) {
      throw new IllegalArgumentException("attention_chunk: must be ≥ 0 (0 = automatic), got " + attentionChunk);
    }
  }

  public static ModelConfig defaults() {
    return new ModelConfig("", "float32", 0, null);
  }

  /**
   * A Llama architecture to initialise randomly, with Hugging Face's {@code config.json} key
   * names. Keys left out take the values of a small byte-level model (vocabulary 259:
   * 256 bytes + {@code <s>} 256, {@code </s>} 257, {@code <pad>} 258).
   *
   * @param vocabSize rows of the embedding and the output head (default 259)
   * @param hiddenSize model width (default 128)
   * @param intermediateSize SwiGLU width (default 344)
   * @param numHiddenLayers decoder blocks (default 4)
   * @param numAttentionHeads query heads (default 4)
   * @param numKeyValueHeads key/value heads (default: as many as query heads)
   * @param maxPositionEmbeddings the window the model is trained for (default 512)
   * @param ropeTheta rotary base (default 10000)
   * @param rmsNormEps RMSNorm epsilon (default 1e-5)
   * @param tieWordEmbeddings the output head reuses the embedding (default false)
   * @param initializerRange standard deviation of the normal initialisation (default 0.02)
   * @param bosTokenId BOS id written to config.json (default: the tokenizer's)
   * @param eosTokenId EOS id (default: the tokenizer's)
   * @param padTokenId padding id (default: none)
   */
  public record Init(
      Integer vocabSize,
      Integer hiddenSize,
      Integer intermediateSize,
      Integer numHiddenLayers,
      Integer numAttentionHeads,
      Integer numKeyValueHeads,
      Integer maxPositionEmbeddings,
      Double ropeTheta,
      Double rmsNormEps,
      Boolean tieWordEmbeddings,
      Double initializerRange,
      Integer bosTokenId,
      Integer eosTokenId,
      Integer padTokenId) {

    public Init {
      vocabSize = positive("vocab_size", vocabSize, 259);
      hiddenSize = positive("hidden_size", hiddenSize, 128);
      intermediateSize = positive("intermediate_size", intermediateSize, 344);
      numHiddenLayers = positive("num_hidden_layers", numHiddenLayers, 4);
      numAttentionHeads = positive("num_attention_heads", numAttentionHeads, 4);
      numKeyValueHeads = positive("num_key_value_heads", numKeyValueHeads, numAttentionHeads);
      maxPositionEmbeddings = positive("max_position_embeddings", maxPositionEmbeddings, 512);
      if (hiddenSize % numAttentionHeads != 0 || (hiddenSize / numAttentionHeads) % 2 != 0) {
        throw new IllegalArgumentException("hidden_size: must be num_attention_heads (" + numAttentionHeads
            + ") × an even head size, got " + hiddenSize);
      }
      if (numAttentionHeads % numKeyValueHeads != 0) {
        throw new IllegalArgumentException("num_key_value_heads: must divide num_attention_heads (" + numAttentionHeads + "), got " + numKeyValueHeads);
      }
      ropeTheta = ropeTheta == null ? 10_000.0 : ropeTheta;
      if (!(ropeTheta > 1) || ropeTheta.isInfinite()) {
        throw new IllegalArgumentException("rope_theta: must be > 1, got " + ropeTheta);
      }
      rmsNormEps = rmsNormEps == null ? 1e-5 : rmsNormEps;
      if (!(rmsNormEps > 0 && rmsNormEps < 1)) {
        throw new IllegalArgumentException("rms_norm_eps: must be in (0, 1), got " + rmsNormEps);
      }
      tieWordEmbeddings = tieWordEmbeddings != null && tieWordEmbeddings;
      initializerRange = initializerRange == null ? 0.02 : initializerRange;
      if (!(initializerRange > 0 && initializerRange < 1)) {
        throw new IllegalArgumentException("initializer_range: must be in (0, 1), got " + initializerRange);
      }
      for (Object[] id : new Object[][] {{"bos_token_id", bosTokenId}, {"eos_token_id", eosTokenId}, {"pad_token_id", padTokenId}}) {
        Integer v = (Integer) id[1];
        if (v != null && (v < 0 || v >= vocabSize)) {
          throw new IllegalArgumentException(id[0] + ": must be in [0, vocab_size = " + vocabSize + "), got " + v);
        }
      }
    }

    private static Integer positive(String key, Integer value, int otherwise) {
      int v = value == null ? otherwise : value;
      if (v < 1) {
        throw new IllegalArgumentException(key + ": must be ≥ 1, got " + v);
      }
      return v;
    }

    /** Every key at its default. */
    public static Init defaults() {
      return new Init(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    public int headDim() {
      return hiddenSize / numAttentionHeads;
    }
  }
}
