package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.HashMap;
import java.util.Map;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.positional.Rope;

/**
 * A straightforward Llama forward pass in plain Java doubles, one query and one key at a time,
 * written independently of {@link LlamaModel}'s array code: the attention score of query i and
 * key j is computed from the <em>relative</em> position the caller assigns to the pair (RoPE's
 * {@code (q₁k₁ + q₂k₂)·cos(rθ) + (q₁k₂ − q₂k₁)·sin(rθ)} per frequency), so SelfExtend's merged
 * map (neighbour distance or group distance per pair) is built explicitly rather than through two
 * rotated copies. Checked against transformers' logits before it checks anything else.
 */
final class ReferenceLlama {

  /** The relative position the pair (query index i, key index j ≤ i) is scored at, or {@link #HIDDEN}. */
  interface RelativePosition {
    long of(int i, int j);
  }

  /** {@link RelativePosition} per layer: memory layers and the others see different keys (FoT). */
  interface LayerRelativePosition {
    long of(int layer, int i, int j);
  }

  /** A pair the query does not see. */
  static final long HIDDEN = Long.MIN_VALUE;

  private final LlamaConfig c;
  private final Map<String, double[]> w = new HashMap<>();

  ReferenceLlama(LlamaModel model) {
    this.c = model.config();
    model.parameters().forEach((name, array) -> {
      float[] f = array.toType(DataType.FLOAT32, false).toFloatArray();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      w.put(name, d);
    });
  }

  /** Adds {@code delta} to element {@code index} of parameter {@code name} (for finite differences). */
  void nudge(String name, int index, double delta) {
    w.get(name)[index] += delta;
  }

  /** Number of elements of parameter {@code name}. */
  int size(String name) {
    return w.get(name).length;
  }

  /**
   * Logits {@code [seq][vocab]}.
   *
   * @param rope frequencies and attention factor, taken at {@code ropeLength}
   * @param queryScale multiplies query i before scoring (SelfExtend's log scaling), or null
   */
  double[][] logits(long[] ids, Rope rope, long ropeLength, RelativePosition relative, double[] queryScale) {
    return logits(ids, rope, ropeLength, (layer, i, j) -> relative.of(i, j), queryScale);
  }

  /** Logits {@code [seq][vocab]} with each layer's own relative positions (and hidden pairs). */
  double[][] logits(long[] ids, Rope rope, long ropeLength, LayerRelativePosition relative, double[] queryScale) {
    int n = ids.length;
    int hidden = c.hiddenSize();
    double[][] h = new double[n][];
    double[] emb = w.get("embedding.weight");
    for (int i = 0; i < n; i++) {
      h[i] = new double[hidden];
      System.arraycopy(emb, (int) ids[i] * hidden, h[i], 0, hidden);
    }
    float[] inv = rope.invFreq(ropeLength);
    double factor = rope.attentionFactor(ropeLength);
    for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
      String p = "blocks." + layer + ".";
      double[][] x = new double[n][];
      for (int i = 0; i < n; i++) {
        x[i] = rmsNorm(h[i], w.get(p + "attention_norm.weight"));
      }
      int l = layer;
      double[][] attention = attention(x, p + "attention.", inv, factor, (i, j) -> relative.of(l, i, j), queryScale);
      for (int i = 0; i < n; i++) {
        double[] out = matVec(w.get(p + "attention.o.weight"), w.get(p + "attention.o.bias"), attention[i], hidden);
        for (int k = 0; k < hidden; k++) {
          h[i][k] += out[k];
        }
        double[] y = rmsNorm(h[i], w.get(p + "mlp_norm.weight"));
        double[] gate = matVec(w.get(p + "mlp.gate.weight"), w.get(p + "mlp.gate.bias"), y, c.intermediateSize());
        double[] up = matVec(w.get(p + "mlp.up.weight"), w.get(p + "mlp.up.bias"), y, c.intermediateSize());
        double[] act = new double[gate.length];
        for (int k = 0; k < act.length; k++) {
          act[k] = gate[k] / (1 + Math.exp(-gate[k])) * up[k];
        }
        double[] down = matVec(w.get(p + "mlp.down.weight"), w.get(p + "mlp.down.bias"), act, hidden);
        for (int k = 0; k < hidden; k++) {
          h[i][k] += down[k];
        }
      }
    }
    double[] head = c.tieWordEmbeddings() ? emb : w.get("output.weight");
    double[][] logits = new double[n][];
    for (int i = 0; i < n; i++) {
      logits[i] = matVec(head, null, rmsNorm(h[i], w.get("norm.weight")), c.vocabSize());
    }
    return logits;
  }

  /** Plain RoPE: the pair's relative position is the difference of the true positions. */
  double[][] logits(long[] ids, long[] positions, Rope rope) {
    long max = 0;
    for (long p : positions) {
      max = Math.max(max, p);
    }
    return logits(ids, rope, max + 1, (i, j) -> positions[i] - positions[j], null);
  }

  private double[][] attention(double[][] x, String p, float[] inv, double factor, RelativePosition relative,
      double[] queryScale) {
    int n = x.length;
    int heads = c.numAttentionHeads();
    int kvHeads = c.numKeyValueHeads();
    int d = c.headDim();
    int half = d / 2;
    double[][] q = new double[n][];
    double[][] k = new double[n][];
    double[][] v = new double[n][];
    for (int i = 0; i < n; i++) {
      q[i] = matVec(w.get(p + "q.weight"), w.get(p + "q.bias"), x[i], heads * d);
      k[i] = matVec(w.get(p + "k.weight"), w.get(p + "k.bias"), x[i], kvHeads * d);
      v[i] = matVec(w.get(p + "v.weight"), w.get(p + "v.bias"), x[i], kvHeads * d);
    }
    double[][] out = new double[n][heads * d];
    for (int head = 0; head < heads; head++) {
      int kvHead = head / (heads / kvHeads);
      for (int i = 0; i < n; i++) {
        double s = queryScale == null ? 1 : queryScale[i];
        double[] scores = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
          long r = relative.of(i, j);
          if (r == HIDDEN) {
            scores[j] = Double.NEGATIVE_INFINITY;
            continue;
          }
          double dot = 0;
          for (int m = 0; m < half; m++) {
            double q1 = s * q[i][head * d + m];
            double q2 = s * q[i][head * d + m + half];
            double k1 = k[j][kvHead * d + m];
            double k2 = k[j][kvHead * d + m + half];
            double angle = r * (double) inv[m];
            dot += (q1 * k1 + q2 * k2) * Math.cos(angle) + (q1 * k2 - q2 * k1) * Math.sin(angle);
          }
          scores[j] = dot * factor * factor / Math.sqrt(d);
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max); // a hidden pair: exp(−∞) = 0
          sum += scores[j];
        }
        for (int j = 0; j <= i; j++) {
          for (int e = 0; e < d; e++) {
            out[i][head * d + e] += scores[j] / sum * v[j][kvHead * d + e];
          }
        }
      }
    }
    return out;
  }

  private double[] rmsNorm(double[] x, double[] weight) {
    double ms = 0;
    for (double e : x) {
      ms += e * e;
    }
    ms /= x.length;
    double r = 1 / Math.sqrt(ms + c.rmsNormEps());
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = weight[i] * x[i] * r;
    }
    return y;
  }

  /** {@code W·x + b} for W stored {@code [rows, x.length]}. */
  private static double[] matVec(double[] weight, double[] bias, double[] x, int rows) {
    double[] y = new double[rows];
    for (int r = 0; r < rows; r++) {
      double acc = bias == null ? 0 : bias[r];
      int base = r * x.length;
      for (int k = 0; k < x.length; k++) {
        acc += weight[base + k] * x[k];
      }
      y[r] = acc;
    }
    return y;
  }

  /** Largest |a − b| between a {@code [seq][vocab]} table and a flat float array. */
  static double maxAbsDiff(double[][] expected, float[] actual) {
    int vocab = expected[0].length;
    if (actual.length != expected.length * vocab) {
      throw new AssertionError("got " + actual.length + " logits, expected " + expected.length + " × " + vocab);
    }
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      for (int j = 0; j < vocab; j++) {
        worst = Math.max(worst, Math.abs(expected[i][j] - actual[i * vocab + j]));
      }
    }
    return worst;
  }

  static float[] flat(NDArray a) {
    return a.toType(DataType.FLOAT32, false).toFloatArray();
  }
}
