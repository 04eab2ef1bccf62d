package org.longctx.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.longctx.data.DataConfig;
import org.longctx.data.io.Compression;
import org.longctx.data.prepare.PreparePipeline;
import org.longctx.data.synth.SynthSample;
import org.longctx.data.synth.SynthTasks;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSource;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.checkpoints.Storage;
import org.longctx.jobs.config.SparkSettings;
import org.longctx.jobs.spark.SparkSessions;

/**
 * {@code bench prepare}: the prepare job on {@code local[cores]} against the tokenizer alone on the
 * same text (see {@link BenchJob#USAGE}).
 */
final class PrepareBench {
  private PrepareBench() {}

  /** Figures of one {@code bench prepare} run. */
  record PrepareFigures(int cores, long documents, long bytes, long tokens, double rawSeconds, double jobSeconds,
      double rawCpuSeconds, double jobCpuSeconds, double sparkStartSeconds) {
    /** Tokens per wall-clock second per core. */
    double rawPerCore() {
      return tokens / rawSeconds / cores;
    }

    double jobPerCore() {
      return tokens / jobSeconds / cores;
    }

    double ratio() {
      return jobPerCore() / rawPerCore();
    }

    /** Tokens per CPU-second of the whole JVM: what a core does, whatever else the machine runs. */
    double rawPerCpuSecond() {
      return tokens / rawCpuSeconds;
    }

    double jobPerCpuSecond() {
      return tokens / jobCpuSeconds;
    }

    double cpuRatio() {
      return jobPerCpuSecond() / rawPerCpuSecond();
    }
  }

  /** CPU time used so far by this whole JVM (every thread, GC and JIT included). */
  static double processCpuSeconds() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime() / 1e9;
    }
    return Double.NaN;
  }

  static int prepare(Args args) throws Exception {
    int cores = args.intValue("--cores", Runtime.getRuntime().availableProcessors());
    int mb = args.intValue("--mb", 48);
    int files = args.intValue("--files", 4 * cores);
    int docChars = args.intValue("--doc-chars", 16384);
    int seed = args.intValue("--seed", 0);
    int rounds = args.intValue("--rounds", 3);
    if (cores < 1 || mb < 1 || files < 1 || docChars < 64 || rounds < 1) {
      throw new UsageException("need --cores >= 1, --mb >= 1, --files >= 1, --doc-chars >= 64, --rounds >= 1");
    }
    Path work = args.value("--keep").map(Path::of).orElse(null);
    boolean temporary = work == null;
    work = temporary ? Files.createTempDirectory("longctx-bench-prepare") : work;
    try {
      PrepareFigures figures = runPrepare(work, cores, mb, files, docChars, seed, args.value("--tokenizer").orElse(null),
          rounds);
      print(figures);
      if (args.value("--json").isPresent()) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("benchmark", "prepare");
        json.put("cores", figures.cores());
        json.put("documents", figures.documents());
        json.put("bytes", figures.bytes());
        json.put("tokens", figures.tokens());
        json.put("raw_tokenizer_seconds", figures.rawSeconds());
        json.put("job_seconds", figures.jobSeconds());
        json.put("spark_start_seconds", figures.sparkStartSeconds());
        json.put("raw_tokens_per_second_per_core", figures.rawPerCore());
        json.put("job_tokens_per_second_per_core", figures.jobPerCore());
        json.put("ratio", figures.ratio());
        json.put("raw_cpu_seconds", figures.rawCpuSeconds());
        json.put("job_cpu_seconds", figures.jobCpuSeconds());
        json.put("raw_tokens_per_cpu_second", figures.rawPerCpuSecond());
        json.put("job_tokens_per_cpu_second", figures.jobPerCpuSecond());
        json.put("cpu_ratio", figures.cpuRatio());
        Files.writeString(Path.of(args.required("--json")),
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
      }
      return 0;
    } finally {
      if (temporary) {
        Storage.deleteTree(work);
      }
    }
  }

  static PrepareFigures runPrepare(Path work, int cores, int mb, int files, int docChars, long seed, String tokenizerFile,
      int rounds) throws Exception {
    Path corpus = work.resolve("corpus");
    Path warmCorpus = work.resolve("warmup");
    Files.createDirectories(corpus);
    Files.createDirectories(warmCorpus);
    Path tokenizer = tokenizerFile != null ? Path.of(tokenizerFile) : ByteLevelTokenizer.writeTo(work.resolve("tokenizer"));
    long target = (long) mb << 20;
    long perFile = target / files;
    long index = 0;
    for (int f = 0; f < files; f++) {
      index = writeShard(corpus.resolve(String.format("shard-%03d.jsonl.zst", f)), seed, index, perFile, docChars);
    }
    writeShard(warmCorpus.resolve("warmup.jsonl.zst"), seed + 1, 0, Math.min(perFile, 2L << 20), docChars);

    List<String> texts = readTexts(corpus);
    long bytes = texts.stream().mapToLong(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
    DataConfig base = DataConfig.defaults();
    TokenizerSpec spec = TokenizerSource.find(List.of(TokenizerSource.Place.named("--tokenizer", tokenizer.toString())),
        Storage.defaultConf()).orElseThrow().spec("", "");

    // raw tokenizer: the call the job makes, on texts already in memory, one thread per core
    TextTokenizer raw = TextTokenizer.shared(spec, base.splitSpecialTokens());
    encodeAll(raw, readTexts(warmCorpus), cores);

    long sparkStart = System.nanoTime();
    SparkSettings settings = new SparkSettings("local[" + cores + "]", "longctx",
        Map.of("spark.ui.enabled", "false", "spark.default.parallelism", String.valueOf(cores)));
    try (SparkSession spark = SparkSessions.create(settings, "bench-prepare")) {
      double sparkStartSeconds = (System.nanoTime() - sparkStart) / 1e9;
      DataConfig warm = base.withPaths(List.of(warmCorpus.toString()), tokenizer.toString(), work.resolve("out-warmup").toString());
      PreparePipeline.run(spark, warm, true);
      DataConfig config = base.withPaths(List.of(corpus.toString()), tokenizer.toString(), work.resolve("out").toString());
      long specials = (config.addBos() ? 1 : 0) + (config.addEos() ? 1 : 0);
      // Rounds alternate raw and job, so load from other processes falls on both alike;
      // the best round of each is its cost on this machine.
      List<PrepareFigures> all = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        double cpu = processCpuSeconds();
        long start = System.nanoTime();
        long tokens = encodeAll(raw, texts, cores);
        double rawSeconds = (System.nanoTime() - start) / 1e9;
        double rawCpuSeconds = processCpuSeconds() - cpu;

        cpu = processCpuSeconds();
        start = System.nanoTime();
        PreparePipeline.Outcome outcome = PreparePipeline.run(spark, config, true);
        double jobSeconds = (System.nanoTime() - start) / 1e9;
        double jobCpuSeconds = processCpuSeconds() - cpu;
        long jobContentTokens = outcome.tokens() - specials * outcome.kept();
        if (jobContentTokens != tokens || outcome.kept() != texts.size()) {
          throw new IllegalStateException("the job kept " + outcome.kept() + " documents / " + jobContentTokens
              + " content tokens; the raw tokenizer saw " + texts.size() + " / " + tokens);
        }
        PrepareFigures f = new PrepareFigures(cores, texts.size(), bytes, tokens, rawSeconds, jobSeconds, rawCpuSeconds,
            jobCpuSeconds, sparkStartSeconds);
        System.out.printf("  round %d: raw %.2f s (%.2f CPU-s), job %.2f s (%.2f CPU-s): ratio %.3f wall, %.3f CPU%n",
            round + 1, rawSeconds, rawCpuSeconds, jobSeconds, jobCpuSeconds, f.ratio(), f.cpuRatio());
        all.add(f);
      }
      // Each round pairs a raw run with the job run right after it, so slow drifts in the load
      // of other processes hit both; the round with the median ratio is the figure.
      all.sort(java.util.Comparator.comparingDouble(PrepareFigures::ratio));
      return all.get((all.size() - 1) / 2);
    }
  }

  private static void print(PrepareFigures f) {
    System.out.printf("bench prepare: %d documents, %.1f MB of text, %d tokens, %d core(s)%n",
        f.documents(), f.bytes() / 1048576.0, f.tokens(), f.cores());
    System.out.printf("                   wall s   tokens/s/core   CPU s   tokens/CPU-s%n");
    System.out.printf("  raw tokenizer  %7.2f  %,14.0f  %6.2f  %,13.0f%n", f.rawSeconds(), f.rawPerCore(),
        f.rawCpuSeconds(), f.rawPerCpuSecond());
    System.out.printf("  prepare job    %7.2f  %,14.0f  %6.2f  %,13.0f%n", f.jobSeconds(), f.jobPerCore(),
        f.jobCpuSeconds(), f.jobPerCpuSecond());
    System.out.printf("  ratio job/raw (median round): %.3f by wall clock, %.3f by CPU time (target >= 0.8); Spark start %.1f s not included%n",
        f.ratio(), f.cpuRatio(), f.sparkStartSeconds());
  }

  /** Encodes every text with {@code threads} threads; returns the number of tokens. */
  static long encodeAll(TextTokenizer tokenizer, List<String> texts, int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Long>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        parts.add(pool.submit(() -> {
          long n = 0;
          for (int i = first; i < texts.size(); i += threads) {
            n += tokenizer.encodeLong(texts.get(i)).length;
          }
          return n;
        }));
      }
      long total = 0;
      for (Future<Long> f : parts) {
        total += f.get();
      }
      return total;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Writes Pile-format dependent documents until {@code bytes}; returns the next sample index. */
  private static long writeShard(Path file, long seed, long index, long bytes, int docChars) throws IOException {
    long written = 0;
    try (OutputStream raw = Files.newOutputStream(file);
        Writer w = new BufferedWriter(new OutputStreamWriter(Compression.ZSTD.create(raw), StandardCharsets.UTF_8))) {
      while (written < bytes) {
        SynthSample s = SynthTasks.dependent(seed, index++, docChars, 0);
        String line = s.toJsonLine();
        w.write(line);
        w.write('\n');
        written += s.text().length();
      }
    }
    return index;
  }

  private static List<String> readTexts(Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> texts = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.sorted().toList();
    }
    for (Path f : files) {
      try (InputStream in = Compression.of(f.toString()).open(Files.newInputStream(f));
          BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          JsonNode n = json.readTree(line);
          texts.add(n.get("text").textValue());
        }
      }
    }
    return texts;
  }
}
