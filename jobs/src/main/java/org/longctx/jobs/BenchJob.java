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
 * Benchmarks on this machine. {@code bench prepare} measures the prepare job against the
 * tokenizer alone on the same text.
 *
 * <pre>Usage: longctx bench prepare [--mb N] [--files N] [--cores N] [--doc-chars N] [--json FILE] [--keep DIR]</pre>
 */
public final class BenchJob {
  static final String USAGE = """
      Usage: longctx bench BENCHMARK [options]

      prepare   generates --mb MB (default 48) of long synthetic documents (--doc-chars each,
                default 16384) in --files zstd shards (default 4 per core) in the Pile format,
                then measures on --cores cores (default all):
                  raw tokenizer: the same texts, already in memory, encoded by --cores threads
                                 with the same tokenizer the job uses (byte-level unless
                                 --tokenizer FILE is given)
                  prepare job:   the whole job on local[cores] (read, decompress, JSON, UTF-8
                                 checks, dedup scan, tokenize, filter, Arrow write, commit);
                                 Spark startup is reported separately
                and prints tokens/s per core for both and their ratio (target >= 0.8), by
                wall clock and by CPU time of the whole JVM. Both are warmed up first on a
                small slice; then --rounds rounds (default 3) each run raw and then the job,
                back to back, and the round with the median ratio is reported (load from
                other processes then falls on both alike).

      train     tokens/s and peak memory (RSS) of a training step of a tiny Llama on CPU
                (--hidden 128 --layers 4 --heads 4 --intermediate 344, vocab 259, --batch 8 ×
                --seq-len 512, --warmup 2 + --steps 5: forward, cross-entropy, backward, clip,
                AdamW), next to the same model and step in PyTorch eager
                (tools/bench/torch_train_step.py, run with --python, default python3), each in
                its own process with --threads intra-op threads (default: all cores), the two
                alternating for --rounds rounds (default 3); prints the best round of each and
                their ratio
                With --workers N --master URL: the same model and global batch trained by N
                replicas on the master's executors (distributed.workers: N, the ring); prints
                the step time split into compute and gradient exchange
      pose-memory
                peak memory of a PoSE step (--seq-len Lc tokens, default 512, positions up to
                --factor × Lc, default 8) next to a plain step of Lc tokens and a full-length
                step of factor × Lc tokens, same model (yarn ×factor), --batch 1, each in its
                own process

      allreduce ring all-reduce bandwidth (the ring of distributed training, docs/distributed.md):
                --ranks (default 2,4) ranks as threads of this JVM on loopback, buffers of
                --sizes-mb (default 1,4,16,64,256) MB in --bucket-mb buckets (default 32),
                median of --rounds (default 5) after a warm-up; prints the algorithm and bus
                bandwidth against the bound of a plain memory copy of the same bytes
      search    candidates/s of the LongRoPE search job (longctx search) on local[1] and on
                local[--cores] (default all) for --candidates candidates (default 8) of
                --config's search: section (model, target length, documents), each after a
                warm-up; prints the parallel efficiency and checks both give the same perplexities
                With --master URL (a standalone cluster, YARN, ...): on one executor and on
                --executors N (default 2) executors of one core each, as two applications

      --json FILE   also write the figures as JSON
      --keep DIR    generate into DIR and keep it (default: a temporary folder, deleted after)
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "bench", USAGE,
      Set.of(), Set.of("--mb", "--files", "--cores", "--doc-chars", "--seed", "--rounds", "--json", "--keep", "--tokenizer",
          // bench train / pose-memory (TrainBench)
          "--hidden", "--layers", "--heads", "--intermediate", "--batch", "--seq-len", "--warmup", "--steps", "--factor",
          "--threads", "--python", "--torch-script",
          // bench allreduce (AllReduceBench)
          "--ranks", "--sizes-mb", "--bucket-mb",
          // bench train --workers N (TrainBench.distributed)
          "--workers", "--master",
          // bench search (SearchBench)
          "--config", "--set", "--candidates", "--executors"),
      BenchJob::run);

  private BenchJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    List<String> words = args.positionals();
    if (words.size() != 1) {
      throw new UsageException("give one benchmark: prepare, train, pose-memory, allreduce, search");
    }
    return switch (words.get(0)) {
      case "prepare" -> prepare(args);
      case "train" -> TrainBench.train(args);
      case "pose-memory" -> TrainBench.poseMemory(args);
      case "allreduce" -> AllReduceBench.run(args);
      case "search" -> SearchBench.search(args);
      default -> throw new UsageException("unknown benchmark '" + words.get(0) + "'; available: prepare, train, pose-memory, allreduce, search");
    };
  }

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
