package org.longctx.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.longctx.trainer.distributed.Ring;

/**
 * {@code bench allreduce}: the ring all-reduce of {@link Ring} on loopback, ranks as threads of
 * this JVM, against the bound of a plain memory copy of the same bytes.
 *
 * <p>Figures per (ranks, size): the median time of {@code --rounds} all-reduces (after one
 * warm-up), the algorithm bandwidth {@code size / time}, the bus bandwidth
 * {@code algbw · 2 (N − 1) / N} (the bytes each rank actually sends per second, NCCL's
 * convention), and the copy bound: {@code size / t_copy}, where {@code t_copy} is the median
 * time of one direct-to-direct {@link ByteBuffer#put} of {@code size} bytes in this JVM. The
 * ratio {@code algbw / copy} says how close the all-reduce gets to moving the buffer once
 * through memory; {@code tcp} is one loopback TCP stream's bandwidth for the same bytes (the
 * kernel copies each byte twice), the ceiling of any collective over TCP on one machine. On one machine every rank shares the same cores and memory bus, so the ratio
 * is a lower bound of what separate machines with a fast network would see per rank.
 */
final class AllReduceBench {
  private AllReduceBench() {}

  record Figure(int ranks, long bytes, double seconds, double algbwGBs, double busbwGBs, double copyGBs, double ratio,
      double tcpGBs) {}

  static int run(Args args) throws Exception {
    List<Integer> ranks = ints(args.value("--ranks").orElse("2,4"));
    List<Integer> sizes = ints(args.value("--sizes-mb").orElse("1,4,16,64,256"));
    int rounds = args.intValue("--rounds", 5);
    int bucketMb = args.intValue("--bucket-mb", 32);
    if (rounds < 1 || bucketMb < 1 || ranks.stream().anyMatch(r -> r < 2 || r > 64) || sizes.stream().anyMatch(s -> s < 1 || s > 1024)) {
      throw new UsageException("need --rounds >= 1, --bucket-mb >= 1, --ranks in [2, 64], --sizes-mb in [1, 1024]");
    }
    List<Figure> figures = new ArrayList<>();
    System.out.printf(Locale.ROOT, "%6s %9s %10s %10s %10s %10s %7s %10s%n", "ranks", "size", "time", "algbw", "busbw", "copy", "ratio",
        "tcp");
    for (int n : ranks) {
      for (int mb : sizes) {
        Figure f = measure(n, (long) mb << 20, rounds, bucketMb << 20);
        figures.add(f);
        System.out.printf(Locale.ROOT, "%6d %6d MB %8.2f ms %6.2f GB/s %6.2f GB/s %6.2f GB/s %6.0f %% %6.2f GB/s%n", f.ranks(), mb,
            f.seconds() * 1e3, f.algbwGBs(), f.busbwGBs(), f.copyGBs(), 100 * f.ratio(), f.tcpGBs());
      }
    }
    if (args.value("--json").isPresent()) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("benchmark", "allreduce");
      json.put("cores", Runtime.getRuntime().availableProcessors());
      json.put("bucket_mb", bucketMb);
      json.put("rounds", rounds);
      json.put("figures", figures);
      Files.writeString(Path.of(args.required("--json")),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
    }
    return 0;
  }

  private static List<Integer> ints(String csv) {
    List<Integer> out = new ArrayList<>();
    for (String s : csv.split(",")) {
      try {
        out.add(Integer.parseInt(s.strip()));
      } catch (NumberFormatException e) {
        throw new UsageException("expected a comma-separated list of integers, got '" + csv + "'");
      }
    }
    return out;
  }

  static Figure measure(int n, long bytes, int rounds, int bucketBytes) throws Exception {
    int size = Math.toIntExact(bytes);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    List<Ring> rings = new ArrayList<>();
    try {
      rings = Ring.loopback(n, Ring.newSecret(), Duration.ofSeconds(120), bucketBytes, pool);
      List<ByteBuffer> buffers = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        ByteBuffer b = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        for (int i = 0; i < size / 4; i++) {
          b.putFloat(i * 4, (i % 1000) * 1e-3f);
        }
        buffers.add(b);
      }
      // all ranks start each round together; the round's time is the slowest rank's
      CyclicBarrier start = new CyclicBarrier(n);
      double[] times = new double[rounds];
      for (int round = -1; round < rounds; round++) {
        List<Future<Long>> done = new ArrayList<>();
        for (int r = 0; r < n; r++) {
          Ring ring = rings.get(r);
          ByteBuffer b = buffers.get(r);
          done.add(pool.submit(() -> {
            start.await();
            long t0 = System.nanoTime();
            ring.allReduce(b.clear(), 1f);
            return System.nanoTime() - t0;
          }));
        }
        long slowest = 0;
        for (Future<Long> f : done) {
          slowest = Math.max(slowest, f.get());
        }
        if (round >= 0) {
          times[round] = slowest / 1e9;
        }
      }
      double seconds = median(times);
      double copy = copySeconds(size, rounds);
      double algbw = bytes / seconds / 1e9;
      double copyGBs = bytes / copy / 1e9;
      return new Figure(n, bytes, seconds, algbw, algbw * 2 * (n - 1) / n, copyGBs, algbw / copyGBs, bytes / tcpSeconds(size, rounds) / 1e9);
    } finally {
      rings.forEach(Ring::close);
      pool.shutdownNow();
    }
  }

  /** Median time of copying {@code size} bytes from one direct buffer into another. */
  static double copySeconds(int size, int rounds) {
    ByteBuffer from = ByteBuffer.allocateDirect(size);
    ByteBuffer to = ByteBuffer.allocateDirect(size);
    double[] times = new double[rounds];
    for (int round = -1; round < rounds; round++) {
      long t0 = System.nanoTime();
      to.clear().put(from.clear());
      if (round >= 0) {
        times[round] = (System.nanoTime() - t0) / 1e9;
      }
    }
    return median(times);
  }

  /**
   * Median time of sending {@code size} bytes through one loopback TCP connection between two
   * threads of this JVM: what the kernel's two copies per byte allow, the ceiling of any
   * TCP collective on one machine.
   */
  static double tcpSeconds(int size, int rounds) throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      ExecutorService writer = Executors.newSingleThreadExecutor();
      try (java.nio.channels.SocketChannel out = java.nio.channels.SocketChannel.open(server.getLocalAddress());
          java.nio.channels.SocketChannel in = server.accept()) {
        ByteBuffer send = ByteBuffer.allocateDirect(size);
        ByteBuffer receive = ByteBuffer.allocateDirect(size);
        double[] times = new double[rounds];
        for (int round = -1; round < rounds; round++) {
          Future<?> sent = writer.submit(() -> {
            send.clear();
            while (send.hasRemaining()) {
              out.write(send);
            }
            return null;
          });
          long t0 = System.nanoTime();
          receive.clear();
          while (receive.hasRemaining()) {
            in.read(receive);
          }
          sent.get();
          if (round >= 0) {
            times[round] = (System.nanoTime() - t0) / 1e9;
          }
        }
        return median(times);
      } finally {
        writer.shutdownNow();
      }
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
