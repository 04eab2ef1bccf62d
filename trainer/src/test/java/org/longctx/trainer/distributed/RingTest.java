package org.longctx.trainer.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ring with several ranks as threads of this JVM, on loopback sockets. */
class RingTest {
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<Ring> rings = new ArrayList<>();

  @AfterEach
  void close() {
    rings.forEach(Ring::close);
    pool.shutdownNow();
  }

  /** Listens on loopback for each rank, then joins all of them at once (each join waits for its neighbours). */
  private List<Ring> ring(int n, byte[] secret, Duration timeout, int bucketBytes) throws Exception {
    List<Ring> out = Ring.loopback(n, secret, timeout, bucketBytes, pool);
    rings.addAll(out);
    return out;
  }

  private static ByteBuffer direct(float[] values) {
    ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
    b.asFloatBuffer().put(values);
    return b;
  }

  private static float[] floats(ByteBuffer b) {
    float[] out = new float[b.capacity() / 4];
    b.duplicate().order(ByteOrder.nativeOrder()).clear().asFloatBuffer().get(out);
    return out;
  }

  /** Every rank all-reduces its own random buffer; returns each rank's result. */
  private List<float[]> allReduce(List<Ring> ranks, List<float[]> inputs, float divisor) throws Exception {
    List<Future<float[]>> results = new ArrayList<>();
    for (int r = 0; r < ranks.size(); r++) {
      Ring ring = ranks.get(r);
      ByteBuffer buffer = direct(inputs.get(r));
      results.add(pool.submit(() -> {
        ring.allReduce(buffer, divisor);
        return floats(buffer);
      }));
    }
    List<float[]> out = new ArrayList<>();
    for (Future<float[]> f : results) {
      out.add(f.get());
    }
    return out;
  }

  private static List<float[]> randomInputs(int ranks, int length, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<float[]> inputs = new ArrayList<>();
    for (int r = 0; r < ranks; r++) {
      float[] v = new float[length];
      for (int i = 0; i < length; i++) {
        v[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 3)));
      }
      inputs.add(v);
    }
    return inputs;
  }

  /** The serial sum in double, and how far a float32 sum of these values may be from it. */
  private static void assertSums(List<float[]> inputs, List<float[]> results, float divisor) {
    int n = inputs.size();
    float[] first = results.get(0);
    for (int i = 0; i < first.length; i++) {
      double sum = 0;
      double magnitude = 0;
      for (float[] in : inputs) {
        sum += in[i];
        magnitude += Math.abs(in[i]);
      }
      // n − 1 float32 additions and one division, each off by at most half an ulp of the running magnitude
      double bound = (n + 1) * Math.ulp((float) magnitude) / divisor;
      assertEquals(sum / divisor, first[i], bound, "element " + i);
    }
    for (int r = 1; r < n; r++) {
      assertArrayEquals(first, results.get(r), "rank " + r + " must hold the same bits as rank 0");
    }
  }

  @Test
  void sumsEqualTheSerialSumForSeveralRanksAndOddSizes() throws Exception {
    for (int n : new int[] {2, 3, 4}) {
      List<Ring> ranks = ring(n, Ring.newSecret(), Duration.ofSeconds(20), 64 * 4); // 64-float buckets: many buckets
      for (int length : new int[] {1, 2, 3, 7, 63, 64, 65, 1001, 4096 + 5}) {
        List<float[]> inputs = randomInputs(n, length, 31L * n + length);
        assertSums(inputs, allReduce(ranks, inputs, 1f), 1f);
        assertSums(inputs, allReduce(ranks, inputs, n), n);
      }
      ranks.forEach(Ring::close);
    }
  }

  @Test
  void oneBucketLargerThanTheSocketBuffers() throws Exception {
    // 40 MB per rank in one bucket: each exchange (20 MB) is larger than the socket buffers of
    // both ends together, which a send-then-receive schedule would deadlock on. Small integers
    // keep every sum exact, so the check is equality.
    int length = 10_000_001;
    List<Ring> ranks = ring(2, Ring.newSecret(), Duration.ofSeconds(60), 64 << 20);
    List<float[]> inputs = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      float[] v = new float[length];
      for (int i = 0; i < length; i++) {
        v[i] = (i % 997) + 3 * r;
      }
      inputs.add(v);
    }
    List<float[]> results = allReduce(ranks, inputs, 2f);
    for (float[] result : results) {
      for (int i = 0; i < length; i++) {
        if (result[i] != (2 * (i % 997) + 3) / 2f) {
          throw new AssertionError("element " + i + ": " + result[i]);
        }
      }
    }
    assertTrue(ranks.get(0).bytesSent() >= (long) length * 4, "sent " + ranks.get(0).bytesSent());
  }

  @Test
  void oneRankReturnsItsInput() throws Exception {
    List<Ring> ranks = ring(1, Ring.newSecret(), Duration.ofSeconds(5), 1024);
    float[] v = {1.5f, -2f, 3f};
    ByteBuffer b = direct(v);
    ranks.get(0).allReduce(b, 1f);
    assertArrayEquals(v, floats(b));
    ranks.get(0).allReduce(b, 2f);
    assertArrayEquals(new float[] {0.75f, -1f, 1.5f}, floats(b));
    assertEquals(List.of("x"), ranks.get(0).allGather("x".getBytes(StandardCharsets.UTF_8)).stream()
        .map(a -> new String(a, StandardCharsets.UTF_8)).toList());
  }

  @Test
  void allGatherGivesEveryRankEveryItemInRankOrder() throws Exception {
    List<Ring> ranks = ring(4, Ring.newSecret(), Duration.ofSeconds(20), 1024);
    List<Future<List<String>>> results = new ArrayList<>();
    for (Ring ring : ranks) {
      results.add(pool.submit(() -> ring.allGather(("rank " + ring.rank() + "!".repeat(ring.rank() * 1000))
          .getBytes(StandardCharsets.UTF_8)).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList()));
    }
    List<String> expected = List.of("rank 0", "rank 1" + "!".repeat(1000), "rank 2" + "!".repeat(2000), "rank 3" + "!".repeat(3000));
    for (Future<List<String>> f : results) {
      assertEquals(expected, f.get());
    }
  }

  @Test
  void aConnectionWithoutTheSecretIsRefusedAndLoggedAndTheRingStillForms() throws Exception {
    byte[] secret = Ring.newSecret();
    ServerSocketChannel l0 = Ring.listen("127.0.0.1", 0);
    ServerSocketChannel l1 = Ring.listen("127.0.0.1", 0);
    List<InetSocketAddress> addresses = List.of((InetSocketAddress) l0.getLocalAddress(), (InetSocketAddress) l1.getLocalAddress());
    Future<Ring> rank0 = pool.submit(() -> Ring.connect(0, addresses, l0, secret, Duration.ofSeconds(20), 1024));
    // an intruder who knows the protocol but not the secret, posing as rank 1
    try (Socket intruder = new Socket()) {
      intruder.connect(addresses.get(0), 5000);
      intruder.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(intruder.getOutputStream());
      DataInputStream in = new DataInputStream(intruder.getInputStream());
      out.writeInt(Ring.MAGIC);
      out.writeInt(Ring.VERSION);
      out.writeInt(1);
      out.writeInt(2);
      out.write(new byte[Ring.NONCE_BYTES]);
      out.flush();
      in.readFully(new byte[Ring.NONCE_BYTES + 32]); // rank 0's challenge and its own proof
      out.write(new byte[32]); // a proof it cannot compute
      out.flush();
      assertThrows(EOFException.class, in::readByte, "rank 0 must close the connection instead of accepting it");
    }
    // the real rank 1 joins afterwards and the ring works
    Future<Ring> rank1 = pool.submit(() -> Ring.connect(1, addresses, l1, secret, Duration.ofSeconds(20), 1024));
    List<Ring> ranks = List.of(rank0.get(), rank1.get());
    rings.addAll(ranks);
    List<String> refusals = ranks.get(0).refusals();
    assertEquals(1, refusals.size(), refusals.toString());
    assertTrue(refusals.get(0).contains("does not know the job's secret"), refusals.get(0));
    List<float[]> inputs = randomInputs(2, 100, 3);
    assertSums(inputs, allReduce(ranks, inputs, 2f), 2f);
  }

  @Test
  void aPeerWithAnotherSecretIsNotSentGradients() throws Exception {
    ServerSocketChannel l0 = Ring.listen("127.0.0.1", 0);
    ServerSocketChannel l1 = Ring.listen("127.0.0.1", 0);
    List<InetSocketAddress> addresses = List.of((InetSocketAddress) l0.getLocalAddress(), (InetSocketAddress) l1.getLocalAddress());
    Future<Ring> rank0 = pool.submit(() -> Ring.connect(0, addresses, l0, Ring.newSecret(), Duration.ofSeconds(3), 1024));
    Future<Ring> rank1 = pool.submit(() -> Ring.connect(1, addresses, l1, Ring.newSecret(), Duration.ofSeconds(3), 1024));
    // neither forms a ring; the side that checks the other's proof first names the secret, the
    // other may only see its connection closed (which side comes first is a race)
    List<String> messages = new java.util.ArrayList<>();
    for (Future<Ring> f : List.of(rank0, rank1)) {
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class, f::get);
      assertTrue(e.getCause() instanceof IOException, e.getCause().toString());
      messages.add(String.valueOf(e.getCause().getMessage()));
    }
    assertTrue(messages.stream().anyMatch(m -> m.contains("secret")), messages.toString());
  }

  @Test
  void aPeerThatStopsAnsweringFailsTheStepWithinTheTimeout() throws Exception {
    List<Ring> ranks = ring(2, Ring.newSecret(), Duration.ofSeconds(2), 1 << 20);
    // rank 1 is alive (its sockets stay open) but never takes part in the exchange
    ByteBuffer b = direct(new float[1000]);
    long start = System.nanoTime();
    SocketTimeoutException e = assertThrows(SocketTimeoutException.class, () -> ranks.get(0).allReduce(b, 2f));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds >= 1.9 && seconds < 6, "failed after " + seconds + " s");
    assertTrue(e.getMessage().contains("rank 1 sent nothing") && e.getMessage().contains("distributed.timeout_s"), e.getMessage());
  }

  @Test
  void aPeerThatDiesFailsTheStepAtOnce() throws Exception {
    List<Ring> ranks = ring(2, Ring.newSecret(), Duration.ofSeconds(30), 1 << 20);
    ranks.get(1).close();
    ByteBuffer b = direct(new float[1000]);
    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> ranks.get(0).allReduce(b, 2f));
    assertTrue((System.nanoTime() - start) / 1e9 < 10, "a closed peer must not wait for the timeout");
    assertTrue(e.getMessage().contains("closed the connection") || e.getMessage().contains("reset"), e.getMessage());
  }

  @Test
  void aNeighbourThatNeverConnectsFailsTheJoinWithinTheTimeout() throws Exception {
    ServerSocketChannel l0 = Ring.listen("127.0.0.1", 0);
    ServerSocketChannel l1 = Ring.listen("127.0.0.1", 0); // rank 1 listens (the kernel accepts) but never joins
    List<InetSocketAddress> addresses = List.of((InetSocketAddress) l0.getLocalAddress(), (InetSocketAddress) l1.getLocalAddress());
    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> Ring.connect(0, addresses, l0, Ring.newSecret(), Duration.ofSeconds(2), 1024));
    double seconds = (System.nanoTime() - start) / 1e9;
    l1.close();
    assertTrue(seconds < 8, "took " + seconds + " s");
    assertTrue(e instanceof SocketTimeoutException, e.toString());
  }

  @Test
  void rejectsBuffersItCannotReduce() throws Exception {
    Ring single = Ring.single();
    assertThrows(IllegalArgumentException.class, () -> single.allReduce(ByteBuffer.allocateDirect(6).order(ByteOrder.nativeOrder()), 1f));
    ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    assertThrows(IllegalArgumentException.class, () -> single.allReduce(ByteBuffer.allocateDirect(8).order(other), 1f));
  }
}
