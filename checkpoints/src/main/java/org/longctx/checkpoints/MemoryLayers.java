package org.longctx.checkpoints;

import java.util.List;
import java.util.TreeSet;

/**
 * Focused Transformer memory (LongLLaMA, docs/methods.md §4): which layers attend, besides their
 * local window, to a memory of (key, value) pairs from earlier windows, and how long inputs are
 * split between memory and the local context. These are the memory keys of LongLLaMA's
 * {@code config.json} [CStanKonrad/long_llama {@code src/configuration_longllama.py}].
 *
 * @param layers {@code mem_layers}: indices of the memory layers, ascending, at least one
 * @param lastContextLength {@code last_context_length}: tokens of a long input kept in the local
 *     context (the rest goes to memory, window by window); at most the window
 * @param groupingHeads {@code mem_attention_grouping[0]}: heads a memory layer attends with at
 *     once, 0 = no grouping
 * @param groupingQueries {@code mem_attention_grouping[1]}: queries per head at once, 0 = no
 *     grouping; both or neither are set
 * @param memDtype {@code mem_dtype}, kept so a checkpoint round-trips (longctx keeps memory in
 *     the model's own dtype)
 */
public record MemoryLayers(List<Integer> layers, int lastContextLength, int groupingHeads, int groupingQueries,
    String memDtype) {

  /** LongLLaMA's default {@code last_context_length}. */
  public static final int DEFAULT_LAST_CONTEXT_LENGTH = 1024;

  /** LongLLaMA's default {@code mem_dtype}. */
  public static final String DEFAULT_MEM_DTYPE = "bfloat16";

  public MemoryLayers {
    if (layers == null || layers.isEmpty()) {
      throw new IllegalArgumentException("mem_layers: name at least one layer (a model without memory layers is a plain Llama)");
    }
    if (layers.stream().anyMatch(l -> l == null || l < 0)) {
      throw new IllegalArgumentException("mem_layers: layer indices must be ≥ 0, got " + layers);
    }
    if (new TreeSet<>(layers).size() != layers.size()) {
      throw new IllegalArgumentException("mem_layers: each layer at most once, got " + layers);
    }
    layers = List.copyOf(new TreeSet<>(layers));
    if (lastContextLength < 1) {
      throw new IllegalArgumentException("last_context_length: must be ≥ 1, got " + lastContextLength);
    }
    if (groupingHeads < 0 || groupingQueries < 0 || (groupingHeads == 0) != (groupingQueries == 0)) {
      throw new IllegalArgumentException("mem_attention_grouping: must be null or [heads, queries], both ≥ 1; got ["
          + groupingHeads + ", " + groupingQueries + "]");
    }
    if (!List.of("float32", "float16", "bfloat16").contains(memDtype)) {
      throw new IllegalArgumentException("mem_dtype: '" + memDtype + "' is not allowed; allowed: float32, float16, bfloat16");
    }
  }

  /** Memory in {@code layers}, LongLLaMA's defaults otherwise (last context 1024, no grouping). */
  public static MemoryLayers of(List<Integer> layers, int lastContextLength) {
    return new MemoryLayers(layers, lastContextLength, 0, 0, DEFAULT_MEM_DTYPE);
  }

  /**
   * How an input of {@code length} tokens is read [CStanKonrad/long_llama
   * {@code src/modeling_longllama.py:_handle_long_input}]: the first
   * {@code max(length − last_context_length, 0)} tokens in windows of {@code window} tokens (each
   * goes to memory after its own attention), then the rest as the local context. For
   * {@code length} 5000, window 2048 and last context 1024: {@code [0, 2048)}, {@code [2048, 3976)},
   * {@code [3976, 5000)}.
   *
   * @return {@code [start, end)} of each piece, in order; the last one is the local context
   */
  public List<int[]> inputPieces(int length, int window) {
    if (length < 1 || window < 1) {
      throw new IllegalArgumentException("length and window: must be ≥ 1, got " + length + " and " + window);
    }
    int toMemory = Math.max(length - lastContextLength, 0);
    List<int[]> pieces = new java.util.ArrayList<>();
    for (int start = 0; start < toMemory; start += window) {
      pieces.add(new int[] {start, Math.min(toMemory, start + window)});
    }
    pieces.add(new int[] {toMemory, length});
    return pieces;
  }

  /** Whether layer {@code i} is a memory layer. */
  public boolean isMemoryLayer(int i) {
    return layers.contains(i);
  }

  /** Whether {@code mem_attention_grouping} is set. */
  public boolean grouped() {
    return groupingHeads > 0;
  }

  /**
   * Queries per attention chunk that keep a memory layer within {@code mem_attention_grouping}:
   * the reference attends {@code heads × queries} query rows at once, longctx's kernel attends
   * all {@code numHeads} heads of a chunk at once, so a chunk holds
   * {@code max(1, heads · queries / numHeads)} queries; 0 when there is no grouping.
   */
  public int queriesPerChunk(int numHeads) {
    return grouped() ? Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) groupingHeads * groupingQueries / numHeads)) : 0;
  }
}
