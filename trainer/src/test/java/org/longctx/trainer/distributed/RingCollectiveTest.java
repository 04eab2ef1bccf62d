package org.longctx.trainer.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import ai.djl.ndarray.types.Shape;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.optim.Gradients;
import org.longctx.trainer.optim.NamedParameter;

/**
 * The collective on DJL gradients: two replicas as threads, each making its gradients with its
 * own backward (taken in turn: one gradient collector per JVM), then averaging them together.
 */
class RingCollectiveTest {

  /** Rank r's gradient of parameter p, element i. */
  private static float value(int rank, int p, int i) {
    return (rank + 1) * 0.25f * (p + 1) + i * 0.5f;
  }

  @Test
  void averagesEveryGradientInPlaceAndAgreesOnScalarsAndCursors() throws Exception {
    int world = 2;
    Shape[] shapes = {new Shape(3, 5), new Shape(7), new Shape(2, 2, 3)};
    byte[] secret = Ring.newSecret();
    List<ServerSocketChannel> listeners = new ArrayList<>();
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int r = 0; r < world; r++) {
      listeners.add(Ring.listen("127.0.0.1", 0));
      addresses.add((InetSocketAddress) listeners.get(r).getLocalAddress());
    }
    ExecutorService pool = Executors.newFixedThreadPool(world);
    try {
      List<Future<List<float[]>>> results = new ArrayList<>();
      List<java.util.concurrent.CompletableFuture<Double>> avg = new ArrayList<>();
      List<java.util.concurrent.CompletableFuture<List<String>>> all = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        int rank = r;
        java.util.concurrent.CompletableFuture<Double> a = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<List<String>> g = new java.util.concurrent.CompletableFuture<>();
        avg.add(a);
        all.add(g);
        results.add(pool.submit(() -> {
          try (NDManager manager = NDManager.newBaseManager();
              RingCollective collective = new RingCollective(
                  Ring.connect(rank, addresses, listeners.get(rank), secret, Duration.ofSeconds(20), 16 * 4))) {
            List<NamedParameter> params = new ArrayList<>();
            for (int p = 0; p < shapes.length; p++) {
              NDArray w = manager.zeros(shapes[p]);
              w.setRequiresGradient(true);
              float[] g0 = new float[(int) shapes[p].size()];
              for (int i = 0; i < g0.length; i++) {
                g0[i] = value(rank, p, i);
              }
              // the gradient of sum(w · g0) is g0; DJL allows one gradient collector at a time per JVM
              synchronized (RingCollectiveTest.class) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                  collector.backward(w.mul(manager.create(g0, shapes[p])).sum());
                }
              }
              params.add(new NamedParameter("p" + p, w));
            }
            try (Gradients grads = Gradients.read(params, 1.0)) {
              collective.averageGradients(grads);
            }
            a.complete(collective.average(rank == 0 ? 1.0 : 2.5));
            g.complete(collective.allGather("cursor of rank " + rank));
            List<float[]> out = new ArrayList<>();
            for (NamedParameter p : params) {
              out.add(p.array().getGradient().toFloatArray());
            }
            return out;
          }
        }));
      }
      for (int r = 0; r < world; r++) {
        List<float[]> grads = results.get(r).get();
        for (int p = 0; p < shapes.length; p++) {
          float[] expected = new float[(int) shapes[p].size()];
          for (int i = 0; i < expected.length; i++) {
            expected[i] = (value(0, p, i) + value(1, p, i)) / 2;
          }
          assertArrayEquals(expected, grads.get(p), "rank " + r + ", parameter " + p + ": the mean, written into the gradient itself");
        }
        assertEquals(1.75, avg.get(r).get());
        assertEquals(List.of("cursor of rank 0", "cursor of rank 1"), all.get(r).get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
