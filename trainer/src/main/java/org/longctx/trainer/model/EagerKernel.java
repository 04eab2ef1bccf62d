package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Attention composed of DJL operations, one query chunk at a time: for each chunk
 * {@code softmax(q·kᵀ·scale + mask)·v} against the keys the mask leaves visible, so the score
 * table never holds {@code L × L} entries for all heads at once; each chunk's scores are freed as
 * soon as its output exists (autograd keeps what backward needs). It computes what transformers'
 * eager attention computes, and is the reference every other kernel is tested against.
 *
 * <p>Precision: scores are taken in the inputs' type; hidden pairs get that type's lowest value
 * (transformers adds it: either way they weigh exactly 0 after the softmax); the softmax runs
 * in float32 when the scores can go there and come back without cutting a gradient (inference,
 * or with the native cast), otherwise in the scores' type (float16 training with DJL alone,
 * where PyTorch still accumulates the softmax in float32 internally).
 */
public final class EagerKernel implements AttentionKernel {

  public static final EagerKernel INSTANCE = new EagerKernel();

  private EagerKernel() {}

  @Override
  public NDArray attend(AttentionInputs in, long chunk, boolean recording) {
    NDArray q = in.queries();
    long batch = q.getShape().get(0);
    int heads = (int) q.getShape().get(1);
    long seq = q.getShape().get(2);
    long e = q.getShape().get(3);
    int kvHeads = (int) in.keys().getShape().get(1);
    long headDim = in.values().getShape().get(3);
    int group = heads / kvHeads;
    NDManager m = q.getManager();
    // grouping is a reshape: keys are never copied per query head
    NDArray grouped = q.reshape(batch, kvHeads, group, seq, e); // [batch, kvHeads, group, seq, e]
    NDArray keysT = in.keys().expandDims(2).transpose(0, 1, 2, 4, 3); // [batch, kvHeads, 1, e, keys]
    NDArray values = in.values().expandDims(2); // [batch, kvHeads, 1, keys, headDim]
    AttentionInputs.Alternative alt = in.alternative();
    NDArray altGrouped = alt == null ? null : alt.queries().reshape(batch, kvHeads, group, seq, e);
    NDArray altKeysT = alt == null ? null : alt.keys().expandDims(2).transpose(0, 1, 2, 4, 3);
    NDList outputs = new NDList();
    for (long start = 0; start < seq; start += chunk) {
      long end = Math.min(seq, start + chunk);
      long keys = Math.min(in.mask().keyLimit(end), keysT.getShape().get(4)); // later keys are hidden from the whole chunk
      try (NDManager scratch = m.newSubManager()) {
        NDArray scores = grouped.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end))
            .matMul(keysT.get(scratch, new NDIndex("..., :{}", keys))); // [batch, kvHeads, group, c, keys]
        if (alt != null) {
          NDArray altScores = altGrouped.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end))
              .matMul(altKeysT.get(scratch, new NDIndex("..., :{}", keys)));
          NDArray primary = alt.primary().primary(scratch, start, end, keys);
          scores = NDArrays.where(primary.broadcast(scores.getShape()), scores, altScores);
        }
        NDArray vc = values.get(scratch, new NDIndex(":, :, :, :{}, :", keys)); // [batch, kvHeads, 1, keys, headDim]
        NDArray out = softmaxTimesValues(scores, vc, in, scratch, start, end, keys, recording); // [batch, kvHeads, group, c, headDim]
        out.attach(m);
        outputs.add(out);
      }
    }
    NDArray all = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 3); // [batch, kvHeads, group, seq, headDim]
    return all.reshape(batch, heads, seq, headDim);
  }

  private static NDArray softmaxTimesValues(NDArray scores, NDArray values, AttentionInputs in, NDManager m, long start,
      long end, long keys, boolean recording) {
    DataType valueType = Casts.typeOf(values);
    if (Casts.canRoundTrip(Casts.typeOf(scores), DataType.FLOAT32, recording)) {
      scores = Casts.to(scores, DataType.FLOAT32, recording);
    }
    scores = scores.mul(Scalars.of(m, in.scale()));
    NDArray hidden = in.mask().hidden(m, start, end, keys);
    if (hidden != null) {
      // one pass over the scores (a cast, a product and a sum took three); the mask broadcasts over [batch, kvHeads, group]
      DataType type = Casts.typeOf(scores);
      Shape shape = scores.getShape();
      NDArray lowest = m.full(new Shape(), Casts.lowest(type), type);
      scores = NDArrays.where(hidden.broadcast(shape), lowest.broadcast(shape), scores);
    }
    NDArray probabilities = Casts.to(scores.softmax(-1), valueType, recording);
    return probabilities.matMul(values);
  }
}
