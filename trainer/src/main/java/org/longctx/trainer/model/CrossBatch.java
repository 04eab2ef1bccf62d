package org.longctx.trainer.model;

/**
 * Focused Transformer's cross-batch training (docs/methods.md §4): in a memory layer, batch entry
 * {@code b} attends to its own keys (rotary positions, causal) and to the keys and values of
 * entries {@code b − 1 … b − range} (rotated at position 0, all visible) — as many of them as
 * {@link #allowedContexts} allows. With document packing {@code k}, one document fills {@code k}
 * consecutive entries, so earlier entries of the same document are the positives and other
 * documents' entries the negatives [CStanKonrad/long_llama
 * {@code fot_continued_pretraining/FoT/cross_batch.py}, {@code data_pipeline.py:KPackingDAPipeline}].
 *
 * <p>Gradients flow into the other entries' keys and values (their projections of their own
 * tokens), as in the reference, whose JAX code stops no gradient there.
 *
 * @param range {@code cross_batch_range} d: other entries an entry may attend to, ≥ 0 (0 = none)
 * @param packing {@code k}: consecutive entries holding one document, ≥ 1
 */
public record CrossBatch(int range, int packing) {

  public CrossBatch {
    if (range < 0) {
      throw new IllegalArgumentException("cross_batch_range: must be ≥ 0 (0 = no cross-batch), got " + range);
    }
    if (packing < 1) {
      throw new IllegalArgumentException("document_packing: must be ≥ 1, got " + packing);
    }
  }

  /**
   * How many other entries each entry of a batch attends to (the reference's "stepping"
   * cross-batch): with {@code n = 1 + range} contexts and step {@code s = ceil(n / max(k − 1, 1))},
   * entry {@code i} may use {@code min((i mod k) · s + 1, n)} contexts — its own and the rest
   * from entries {@code i − 1, i − 2, …} — or all {@code n} when {@code k = 1}; then at most
   * {@code i + 1}, since no entry precedes entry 0. The result is that count minus the entry's
   * own context. So the first entry of each document sees no other entry, and later entries see
   * more, the earliest ones of their own document first.
   *
   * @return per entry, the number of preceding entries it attends to
   */
  public int[] allowedContexts(int batch) {
    if (batch < 1 || batch % packing != 0) {
      throw new IllegalArgumentException("train.batch_size: must be a multiple of fot.document_packing (" + packing + "), got " + batch);
    }
    int contexts = 1 + range;
    int step = (contexts + Math.max(packing - 1, 1) - 1) / Math.max(packing - 1, 1); // ceil
    int[] allowed = new int[batch];
    for (int i = 0; i < batch; i++) {
      int pack = packing == 1 ? contexts : Math.min((i % packing) * step + 1, contexts);
      allowed[i] = Math.min(pack, i + 1) - 1;
    }
    return allowed;
  }
}
