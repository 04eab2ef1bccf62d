package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.longctx.positional.RotaryEmbedding.CosSin;
import org.longctx.positional.SelfExtend;

/**
 * SelfExtend attention (docs/methods.md §5; datamllab/LongLM): every query and key is rotated
 * twice, at its true position (neighbour scores) and at its group position (group scores); a pair
 * uses the neighbour score when {@code 0 ≤ q − k < W} in true positions and the group score
 * otherwise; then one causal mask and one softmax, in the {@link AttentionKernel}. Keys are
 * cached as projected and rotated afresh every call, since each call needs both rotations.
 *
 * <p>Group positions are integer arithmetic on the host ({@link SelfExtend}); SelfExtend
 * is an inference mode, so reading positions back from the device costs nothing that matters.
 */
public final class SelfExtendMode implements AttentionMode {
  private final SelfExtend settings;

  public SelfExtendMode(SelfExtend settings) {
    if (settings == null) {
      throw new IllegalArgumentException("settings: must not be null");
    }
    this.settings = settings;
  }

  public SelfExtend settings() {
    return settings;
  }

  @Override
  public Step begin(ForwardPass pass) {
    NDManager m = pass.manager();
    long[][] queryPositions = pass.queryPositions();
    long[][] keyPositions = pass.keyPositions();
    int batch = queryPositions.length;
    int queries = queryPositions[0].length;
    int keys = keyPositions[0].length;
    long[] groupQueries = new long[batch * queries];
    long[] groupKeys = new long[batch * keys];
    float[] scales = settings.scalesQueries() ? new float[batch * queries] : null;
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < queries; i++) {
        groupQueries[b * queries + i] = settings.groupQueryPosition(queryPositions[b][i]);
        if (scales != null) {
          scales[b * queries + i] = (float) settings.queryScale(queryPositions[b][i]);
        }
      }
      for (int j = 0; j < keys; j++) {
        groupKeys[b * keys + j] = settings.groupKeyPosition(keyPositions[b][j]);
      }
    }
    NDArray queryIds = m.create(ForwardPass.flatten(queryPositions), new Shape(batch, queries)); // [batch, queries]
    NDArray keyIds = m.create(ForwardPass.flatten(keyPositions), new Shape(batch, keys)); // [batch, keys]
    CosSin queryTrue = pass.cosSin(queryIds);
    CosSin queryGroup = pass.cosSin(m.create(groupQueries, new Shape(batch, queries)));
    CosSin keyTrue = pass.cosSin(keyIds);
    CosSin keyGroup = pass.cosSin(m.create(groupKeys, new Shape(batch, keys)));
    NDArray queryScale = scales == null ? null
        : Casts.to(m.create(scales, new Shape(batch, 1, queries, 1)), pass.precision().dataType(), false); // before rotation, as the reference scales
    CausalMask mask = new CausalMask(pass.offset());
    int window = settings.windowSize();
    AttentionInputs.PairSelector neighbour = (scratch, start, end, n) -> {
      NDArray qp = queryIds.get(scratch, new NDIndex(":, {}:{}", start, end)).expandDims(2); // [batch, c, 1]
      NDArray kp = keyIds.get(scratch, new NDIndex(":, :{}", n)).expandDims(1); // [batch, 1, n]
      NDArray distance = qp.sub(kp); // [batch, c, n]
      return distance.gte(0).logicalAnd(distance.lt(window)).expandDims(1).expandDims(1); // [batch, 1, 1, c, n]
    };
    return (q, k, v, cache) -> {
      if (cache != null) { // un-rotated: every call rotates all keys with true and group positions
        LayerCache.KeysValues all = cache.append(k, v, m);
        k = all.keys();
        v = all.values();
      }
      if (queryScale != null) {
        q = q.mul(queryScale);
      }
      NDArray neighbourQ = pass.rotate(q, queryTrue);
      NDArray groupQ = pass.rotate(q, queryGroup);
      NDArray neighbourK = pass.rotate(k, keyTrue);
      NDArray groupK = pass.rotate(k, keyGroup);
      return new AttentionInputs(neighbourQ, neighbourK, v, pass.scale(), mask,
          new AttentionInputs.Alternative(groupQ, groupK, neighbour));
    };
  }

  @Override
  public boolean cachesRotatedKeys() {
    return false;
  }

  @Override
  public String toString() {
    return "selfextend(" + settings + ")";
  }
}
