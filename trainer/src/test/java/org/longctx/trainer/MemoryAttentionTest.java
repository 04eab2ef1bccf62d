package org.longctx.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.MemoryLayers;
import org.longctx.trainer.model.CrossBatch;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.eval.TinyModels;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Positions;
import org.longctx.trainer.model.Precision;

/**
 * Focused Transformer memory layers (docs/methods.md §4) against plain attention and against
 * {@link ReferenceLlama}, a double-precision forward written independently of the model: a memory
 * key is scored at relative position {@code p_i − 0} (it sits at position 0), a local key at
 * {@code p_i − p_j} (positions counted from the start of the local context), and layers without
 * memory see their own local context only. The contexts each token belongs to are spelled out in
 * the tests, not taken from the code under test.
 */
class MemoryAttentionTest {
  static final int WINDOW = 16;
  static final int LAST = 8;
  static final int VOCAB = 64;
  static final double TOLERANCE = 1e-4;

  static LlamaModel plain;
  static LlamaModel memory; // layer 1 remembers, layer 0 does not

  @BeforeAll
  static void load() throws IOException {
    plain = model(2, 11);
    memory = plain.withMemory(MemoryLayers.of(List.of(1), LAST));
  }

  @AfterAll
  static void close() {
    memory.close();
    plain.close();
  }

  /** A random two-head-dim-8 Llama with window 16 (weights normal(0, 1/√fan_in), so logits are far from uniform). */
  static LlamaModel model(int layers, long seed) throws IOException {
    String json = """
        {"architectures": ["LlamaForCausalLM"], "vocab_size": %d, "hidden_size": 32, "intermediate_size": 48,
         "num_hidden_layers": %d, "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": %d,
         "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_theta": 10000.0}
        """.formatted(VOCAB, layers, WINDOW);
    return TinyModels.withRandomWeights(LlamaConfig.fromHuggingFace(new ObjectMapper().readTree(json)), seed);
  }

  static long[] ids(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    return rng.longs(n, 0, VOCAB).toArray();
  }

  static float[] logits(LlamaModel model, long[] ids) {
    try (NDManager m = NDManager.newBaseManager(model.device())) {
      return ReferenceLlama.flat(model.forward(m.create(ids, new Shape(1, ids.length)), null));
    }
  }

  @Test
  void withAnEmptyMemoryMemoryLayersAreExactlyPlainAttention() {
    long[] ids = ids(LAST, 1); // fits the last local context: nothing goes to memory
    assertArrayEquals(logits(plain, ids), logits(memory, ids), "forward");
    int[] prompt = Arrays.stream(ids(5, 2)).mapToInt(x -> (int) x).toArray();
    Generator.Result p = Generator.generate(plain, prompt, 4, null, 0, KvCache.OnRopeChange.REBUILD, true);
    Generator.Result q = Generator.generate(memory, prompt, 4, null, 0, KvCache.OnRopeChange.REBUILD, true);
    assertArrayEquals(p.tokens(), q.tokens());
    for (int s = 0; s < p.logits().length; s++) {
      assertArrayEquals(p.logits()[s], q.logits()[s], "generation step " + s);
    }
    try (LlamaModel noCrossBatch = memory.withCrossBatch(new CrossBatch(0, 1)); NDManager m = NDManager.newBaseManager()) {
      long[] batch = ids(2 * WINDOW, 3);
      NDArray input = m.create(batch, new Shape(2, WINDOW));
      assertArrayEquals(ReferenceLlama.flat(plain.forwardAt(input, Positions.sequential(m, 2, WINDOW))),
          ReferenceLlama.flat(noCrossBatch.forwardAt(input, Positions.sequential(m, 2, WINDOW))), "training, range 0");
    }
  }

  /** Position of token i within its context, and which context it is in, for one reading of the input. */
  record Contexts(IntUnaryOperator context, IntUnaryOperator position) {

    /** Memory layers see every earlier token (memory keys at position 0); other layers only their context. */
    ReferenceLlama.LayerRelativePosition relative(MemoryLayers memory) {
      return (layer, i, j) -> {
        if (context.applyAsInt(i) == context.applyAsInt(j)) {
          return position.applyAsInt(i) - position.applyAsInt(j);
        }
        return memory.isMemoryLayer(layer) ? position.applyAsInt(i) : ReferenceLlama.HIDDEN;
      };
    }
  }

  @Test
  void aLongInputReadThroughMemoryMatchesTheReference() {
    int n = 40; // windows [0, 16) and [16, 32) go to memory, [32, 40) is the local context
    long[] ids = ids(n, 4);
    Contexts contexts = new Contexts(i -> i < 32 ? i / WINDOW : 2, i -> i < 32 ? i % WINDOW : i - 32);
    double[][] expected = new ReferenceLlama(memory).logits(ids, memory.config().rope(), WINDOW,
        contexts.relative(memory.config().memory()), null);
    double diff = ReferenceLlama.maxAbsDiff(expected, logits(memory, ids));
    assertTrue(diff < TOLERANCE, "max |Δ| " + diff);
    double plainDiff = ReferenceLlama.maxAbsDiff(expected, logits(plain, ids));
    assertTrue(plainDiff > 100 * TOLERANCE, "the memory changes the logits (plain differs by " + plainDiff + ")");
  }

  @Test
  void generationMovesAFullLocalContextIntoMemory() {
    int[] prompt = Arrays.stream(ids(40, 5)).mapToInt(x -> (int) x).toArray();
    Generator.Result r = Generator.generate(memory, prompt, 12, null, 0, KvCache.OnRopeChange.REBUILD, true);
    long[] all = new long[prompt.length + r.tokens().length - 1];
    for (int i = 0; i < all.length; i++) {
      all[i] = i < prompt.length ? prompt[i] : r.tokens()[i - prompt.length];
    }
    // prompt: memory windows [0, 16), [16, 32); the local context [32, 48) fills up while
    // generating; token 48 would make it 17 > 16 tokens, so it moves to memory and 48 starts anew
    Contexts contexts = new Contexts(i -> i < 32 ? i / WINDOW : i < 48 ? 2 : 3,
        i -> i < 32 ? i % WINDOW : i < 48 ? i - 32 : i - 48);
    double[][] expected = new ReferenceLlama(memory).logits(all, memory.config().rope(), WINDOW,
        contexts.relative(memory.config().memory()), null);
    for (int s = 0; s < r.tokens().length; s++) {
      double[][] row = {expected[prompt.length - 1 + s]};
      double diff = ReferenceLlama.maxAbsDiff(row, r.logits()[s]);
      assertTrue(diff < TOLERANCE, "step " + s + ": max |Δ| " + diff);
    }
  }

  @Test
  void attentionGroupingChangesNothingButTheChunks() {
    long[] ids = ids(40, 6);
    try (LlamaModel grouped = plain.withMemory(new MemoryLayers(List.of(1), LAST, 2, 3, "bfloat16"))) {
      float[] a = logits(memory, ids);
      float[] b = logits(grouped, ids);
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], 1e-5, "logit " + i);
      }
    }
  }

  @Test
  void crossBatchEntriesMatchTheReferenceOverTheirAllowedEntries() {
    int length = 6;
    int batch = 4;
    CrossBatch crossBatch = new CrossBatch(2, 2); // allowed [0, 1, 0, 2]
    int[] allowed = crossBatch.allowedContexts(batch);
    assertArrayEquals(new int[] {0, 1, 0, 2}, allowed);
    long[] ids = ids(batch * length, 7);
    float[] actual;
    try (LlamaModel training = memory.withCrossBatch(crossBatch); NDManager m = NDManager.newBaseManager()) {
      actual = ReferenceLlama.flat(training.forwardAt(m.create(ids, new Shape(batch, length)),
          Positions.sequential(m, batch, length)));
    }
    for (int b = 0; b < batch; b++) {
      // entries b − allowed … b laid end to end, each its own context, the earlier ones remembered
      int first = b - allowed[b];
      long[] seq = Arrays.copyOfRange(ids, first * length, (b + 1) * length);
      Contexts contexts = new Contexts(i -> i / length, i -> i % length);
      double[][] expected = new ReferenceLlama(memory).logits(seq, memory.config().rope(), WINDOW,
          contexts.relative(memory.config().memory()), null);
      double[][] own = Arrays.copyOfRange(expected, allowed[b] * length, seq.length);
      float[] row = Arrays.copyOfRange(actual, b * length * VOCAB, (b + 1) * length * VOCAB);
      double diff = ReferenceLlama.maxAbsDiff(own, row);
      assertTrue(diff < TOLERANCE, "entry " + b + ": max |Δ| " + diff);
    }
  }

  /**
   * Our choice, as the JAX reference (no stop_gradient in cross_batch.py): the loss of an entry
   * reaches the tokens of the earlier entries it attends to, through their keys and values.
   */
  @Test
  void gradientsFlowIntoTheKeysAndValuesOfOtherEntries() throws IOException {
    assertTrue(embeddingGradientFromEntry0(new CrossBatch(1, 2)) > 0, "entry 1 attends to entry 0");
    assertEquals(0.0, embeddingGradientFromEntry0(new CrossBatch(0, 2)), "range 0: entry 1 sees only itself");
  }

  /**
   * |∂(sum of entry 1's logits) / ∂(embeddings of the tokens only entry 0 holds)|, summed, for a
   * fresh one-layer model whose layer remembers.
   */
  private static double embeddingGradientFromEntry0(CrossBatch crossBatch) throws IOException {
    long[] ids = new long[2 * 8];
    for (int t = 0; t < 8; t++) {
      ids[t] = t; // entry 0: tokens 0 … 7
      ids[8 + t] = 32 + t; // entry 1: tokens 32 … 39
    }
    try (LlamaModel model = model(1, 12); LlamaModel remembering = model.withMemory(MemoryLayers.of(List.of(0), LAST));
        LlamaModel training = remembering.withCrossBatch(crossBatch); NDManager m = NDManager.newBaseManager()) {
      model.setTrainable(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray logits = training.forwardAt(m.create(ids, new Shape(2, 8)), Positions.sequential(m, 2, 8));
      collector.backward(logits.get(new NDIndex("1")).sum());
      float[] gradient = model.parameters().get("embedding.weight").getGradient().get(new NDIndex("0:8")).abs().toFloatArray();
      double total = 0;
      for (float g : gradient) {
        total += g;
      }
      return total;
      }
    }
  }

  @Test
  void memoryLayersRefuseWhatTheyCannotDo() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> memory.withSelfExtend(new org.longctx.positional.SelfExtend(2, 4)));
    assertTrue(e.getMessage().startsWith("self_extend: cannot be combined with memory layers"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> plain.withCrossBatch(new CrossBatch(1, 1)));
    assertTrue(e.getMessage().startsWith("cross_batch_range: cross-batch training needs memory layers"), e.getMessage());
    try (NDManager m = NDManager.newBaseManager()) {
      e = assertThrows(IllegalArgumentException.class,
          () -> memory.forward(m.create(new long[] {1, 2}, new Shape(1, 2)), m.create(new long[] {0, 1}, new Shape(1, 2))));
      assertTrue(e.getMessage().startsWith("positionIds: a model with memory layers numbers tokens itself"), e.getMessage());
    }
  }
}
