package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.recipes.Batch;

/**
 * The training gradients — DJL's autograd through the whole model and the loss — against
 * central finite differences of the same loss computed by {@link ReferenceLlama} in double
 * precision (an independent implementation of the forward pass, itself checked against
 * transformers' logits). Every parameter tensor is probed at several elements, on a batch of
 * two rows where the second is padded (padding must not contribute).
 */
class GradientCheckTest {
  static final double STEP = 1e-4;

  static final int[][] ROWS = {
      {1, 17, 99, 5, 64, 23, 23, 101, 7, 45, 88, 3, 12, 127, 60, 31, 9, 77, 42, 18, 54, 2, 110, 36},
      {1, 42, 8, 8, 93, 120, 14, 66, 29, 71, 5, 100, 38, 19},
  };

  @Test
  void autogradMatchesFiniteDifferencesOfAnIndependentForward() throws Exception {
    try (LlamaModel model = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
        NDManager scope = NDManager.newBaseManager()) {
      ReferenceLlama reference = new ReferenceLlama(model);
      model.setTrainable(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss = Batch.of(List.of(ROWS), null, 0).loss(model, scope);
        double expected = meanLoss(reference, model);
        assertTrue(Math.abs(loss.getFloat() - expected) < 1e-5 * expected, "loss " + loss.getFloat() + " vs reference " + expected);
        collector.backward(loss);
      }
      SplittableRandom random = new SplittableRandom(7);
      List<String> failures = new ArrayList<>();
      Map<String, Double> worst = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> p : model.parameters().entrySet()) {
        float[] gradient = p.getValue().getGradient().toFloatArray();
        double scale = 0;
        for (float g : gradient) {
          scale = Math.max(scale, Math.abs(g));
        }
        assertTrue(scale > 0, p.getKey() + " received no gradient");
        for (int probe = 0; probe < 6; probe++) {
          int i = random.nextInt(gradient.length);
          reference.nudge(p.getKey(), i, STEP);
          double up = meanLoss(reference, model);
          reference.nudge(p.getKey(), i, -2 * STEP);
          double down = meanLoss(reference, model);
          reference.nudge(p.getKey(), i, STEP);
          double numeric = (up - down) / (2 * STEP);
          // float32 gradients: error relative to the tensor's largest gradient
          double error = Math.abs(numeric - gradient[i]) / scale;
          worst.merge(p.getKey(), error, Math::max);
          if (error > 1e-3) {
            failures.add(p.getKey() + "[" + i + "]: autograd " + gradient[i] + ", finite difference " + numeric);
          }
        }
      }
      assertTrue(failures.isEmpty(), failures + "\nworst relative error per tensor: " + worst);
    }
  }

  /** Mean next-token cross-entropy over the real tokens of every row, in double precision. */
  static double meanLoss(ReferenceLlama reference, LlamaModel model) {
    double sum = 0;
    int count = 0;
    for (int[] row : ROWS) {
      long[] ids = new long[row.length];
      long[] positions = new long[row.length];
      for (int i = 0; i < row.length; i++) {
        ids[i] = row[i];
        positions[i] = i;
      }
      double[][] logits = reference.logits(ids, positions, model.config().rope());
      for (int t = 0; t + 1 < row.length; t++) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits[t]) {
          max = Math.max(max, v);
        }
        double z = 0;
        for (double v : logits[t]) {
          z += Math.exp(v - max);
        }
        sum -= logits[t][row[t + 1]] - max - Math.log(z);
        count++;
      }
    }
    return sum / count;
  }
}
