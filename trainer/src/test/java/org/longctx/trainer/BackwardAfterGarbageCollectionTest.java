package org.longctx.trainer;

import org.longctx.trainer.model.Precision;

import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.recipes.Batch;

/**
 * Backward must not read memory the JVM has freed. On CPU, DJL makes an array from Java data
 * (including the scalar behind every {@code mul(Number)}) as a tensor that <em>borrows</em> a
 * direct buffer; closing the array lets the garbage collector free that buffer while autograd
 * may still hold the tensor for backward. Found as a training run whose replayed step gave a
 * different gradient norm now and then (0.647, 0.218, 3.4e17, infinity) until the JVM ran
 * without garbage collection.
 *
 * <p>The test runs one forward (model + loss + loss scaling), then forces collections and
 * refills freed native memory with NaN before backward: the gradients must equal, bit for bit,
 * those of a backward run straight after the forward.
 */
class BackwardAfterGarbageCollectionTest {

  @ParameterizedTest
  @ValueSource(strings = {"FLOAT32", "FLOAT16"}) // float16 training takes its own norm path
  void gradientsDoNotDependOnGarbageCollectionBetweenForwardAndBackward(DataType dtype) throws Exception {
    try (LlamaModel model = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.of(dtype))) {
      model.setTrainable(true);
      Map<String, float[]> straight = gradients(model, false);
      Map<String, float[]> afterCollection = gradients(model, true);
      for (Map.Entry<String, float[]> e : straight.entrySet()) {
        assertArrayEquals(e.getValue(), afterCollection.get(e.getKey()), e.getKey() + " changed by a collection before backward");
      }
    }
  }

  /** Gradients of one scaled loss, optionally with collections and a NaN scribble before backward. */
  private static Map<String, float[]> gradients(LlamaModel model, boolean collectFirst) throws InterruptedException {
    LossScaler scaler = LossScaler.dynamic(8.0, 2.0, 0.5, 2000);
    try (NDManager scope = NDManager.newBaseManager();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray loss = Batch.of(List.of(GradientCheckTest.ROWS), null, 0).loss(model, scope);
      NDArray scaled = scaler.scaleLoss(loss, 2);
      List<ByteBuffer> scribble = collectFirst ? collectAndScribble() : List.of();
      collector.backward(scaled);
      Reference.reachabilityFence(scribble); // the NaN-filled memory stays taken until backward has run
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
      try (NDArray g = p.getValue().getGradient(); NDArray g32 = g.toType(DataType.FLOAT32, true)) {
        float[] values = g32.toFloatArray();
        for (float v : values) {
          assertTrue(Float.isFinite(v), p.getKey() + " has a non-finite gradient");
        }
        out.put(p.getKey(), values);
        g.muli(0f);
      }
    }
    return out;
  }

  /** Frees every unreachable direct buffer, then takes the freed memory back filled with NaN. */
  private static List<ByteBuffer> collectAndScribble() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50); // the cleaner thread frees the buffers' memory after the collection
    }
    List<ByteBuffer> scribble = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      int size = 4 << (i % 8); // 4 B .. 512 B: the sizes of scalars and small index arrays
      ByteBuffer b = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
      while (b.remaining() >= 4) {
        b.putFloat(Float.NaN);
      }
      scribble.add(b);
    }
    return scribble;
  }
}
