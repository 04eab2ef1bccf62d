package org.longctx.trainer;

import java.util.List;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.MemoryLayers;
import org.longctx.trainer.model.CrossBatch;

/**
 * The {@code fot:} section: what the Focused Transformer recipe adds to {@code train:}
 * (docs/methods.md §4, docs/training.md). The memory keys are LongLLaMA's {@code config.json}
 * keys and end up in the trained model's {@code config.json}.
 *
 * @param memLayers the memory layers; empty = the base model's own (a LongLLaMA checkpoint)
 * @param lastContextLength tokens of a long input kept in the local context at inference; 0 =
 *     the base model's own, else half its window (LongLLaMA: 1024 of 2048)
 * @param memAttentionGrouping {@code [heads, queries]} attended at once in memory layers, or
 *     empty for none
 * @param crossBatchRange d: earlier batch entries a memory layer attends to in training (the
 *     reference's default is 1)
 * @param documentPacking k: consecutive batch entries one document stream fills
 */
public record FotConfig(List<Integer> memLayers, int lastContextLength, List<Integer> memAttentionGrouping, int crossBatchRange,
    int documentPacking) {

  public FotConfig {
    memLayers = memLayers == null ? List.of() : List.copyOf(memLayers);
    memAttentionGrouping = memAttentionGrouping == null ? List.of() : List.copyOf(memAttentionGrouping);
    if (!memAttentionGrouping.isEmpty() && memAttentionGrouping.size() != 2) {
      throw new IllegalArgumentException("mem_attention_grouping: must be empty or [heads, queries], got " + memAttentionGrouping);
    }
    if (lastContextLength < 0) {
      throw new IllegalArgumentException("last_context_length: must be ≥ 0 (0 = the base model's own, else half its window), got "
          + lastContextLength);
    }
    new CrossBatch(crossBatchRange, documentPacking); // checks both, naming the key
  }

  public static FotConfig defaults() {
    return new FotConfig(List.of(), 0, List.of(), 1, 1);
  }

  /** The cross-batch settings of training. */
  public CrossBatch crossBatch() {
    return new CrossBatch(crossBatchRange, documentPacking);
  }

  /**
   * The memory layers a run gives {@code base}: this section's keys where set, else the base
   * model's own; an error naming {@code fot.mem_layers} when neither has any.
   */
  public MemoryLayers memoryFor(LlamaConfig base) {
    MemoryLayers own = base.memory();
    List<Integer> layers = !memLayers.isEmpty() ? memLayers : own == null ? List.of() : own.layers();
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("fot.mem_layers: name the memory layers (e.g. [" + base.numHiddenLayers() / 2
          + "]); the base model has none");
    }
    int last = lastContextLength > 0 ? lastContextLength
        : own != null ? own.lastContextLength() : Math.max(1, base.maxPositionEmbeddings() / 2);
    int heads = !memAttentionGrouping.isEmpty() ? memAttentionGrouping.get(0) : own == null ? 0 : own.groupingHeads();
    int queries = !memAttentionGrouping.isEmpty() ? memAttentionGrouping.get(1) : own == null ? 0 : own.groupingQueries();
    return new MemoryLayers(layers, last, heads, queries, own == null ? MemoryLayers.DEFAULT_MEM_DTYPE : own.memDtype());
  }

  /** Checks this section against the {@code train:} section it is used with. */
  public void checkAgainst(TrainConfig train) {
    if (train.batchSize() % documentPacking != 0) {
      throw new IllegalArgumentException("fot.document_packing: must divide train.batch_size (" + train.batchSize() + "), got "
          + documentPacking);
    }
  }
}
