package org.longctx.jobs;

import java.util.List;
import java.util.Set;

/**
 * Benchmarks on this machine: the usage text and the dispatch to one class per benchmark. It
 * names no Spark class itself, so {@code bench gpu} runs from the GPU bundle, which has no Spark.
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

      gpu       on a GPU node, from the GPU bundle (bin/longctx-gpu bench gpu, docs/gpu.md):
                longctx's training step against transformers' (LlamaForCausalLM with SDPA
                attention, tools/bench/hf_train_bench.py run with --python) on the same model,
                random tokens, AdamW, clip 1.0 and --dtype (float16 default, bfloat16,
                float32), transformers first, each row after emptying the allocator's cache;
                --model 134m (hidden 768, 12 layers, 12 heads, MLP 2048, vocab 32000, batch
                8 × 2048) or 941m (2048, 16, 16, 5504, batch 4 × 4096), or the shape flags;
                --seq-lens L1,L2,... one row per length (e.g. --batch 1 --seq-lens
                4096,16384,32768,65536); prints tokens/s, ms/step, MFU and peak memory of
                both and their ratios. --parity instead checks the fused kernels against the
                eager path (logits, gradients, KV-cache decode, AdamW, gradient norms);
                --pose-factor F instead measures the peak memory of a PoSE step (--seq-len
                tokens, positions up to F × that) next to a plain and a full-length step;
                --profile DIR also records --profile-steps N (default 3) more steps of each
                under PyTorch's profiler into Chrome traces in DIR and prints them side by
                side (GPU busy and idle time, kernels, copies, synchronisations)

      --json FILE   also write the figures as JSON
      --keep DIR    generate into DIR and keep it (default: a temporary folder, deleted after)
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "bench", USAGE,
      Set.of("--parity"), Set.of("--mb", "--files", "--cores", "--doc-chars", "--seed", "--rounds", "--json", "--keep", "--tokenizer",
          // bench train / pose-memory (TrainBench)
          "--hidden", "--layers", "--heads", "--intermediate", "--batch", "--seq-len", "--warmup", "--steps", "--factor",
          "--threads", "--python", "--torch-script",
          // bench allreduce (AllReduceBench)
          "--ranks", "--sizes-mb", "--bucket-mb",
          // bench train --workers N (TrainBench.distributed)
          "--workers", "--master",
          // bench search (SearchBench)
          "--config", "--set", "--candidates", "--executors",
          // bench gpu (GpuBench)
          "--model", "--vocab", "--seq-lens", "--dtype", "--script", "--pose-factor", "--profile", "--profile-steps"),
      BenchJob::run);

  private BenchJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    List<String> words = args.positionals();
    if (words.size() != 1) {
      throw new UsageException("give one benchmark: prepare, train, pose-memory, allreduce, search, gpu");
    }
    return switch (words.get(0)) {
      case "prepare" -> PrepareBench.prepare(args);
      case "train" -> TrainBench.train(args);
      case "pose-memory" -> TrainBench.poseMemory(args);
      case "allreduce" -> AllReduceBench.run(args);
      case "search" -> SearchBench.search(args);
      case "gpu" -> GpuBench.bench(args);
      default -> throw new UsageException("unknown benchmark '" + words.get(0) + "'; available: prepare, train, pose-memory, allreduce, search, gpu");
    };
  }
}
