package org.longctx.jobs;

import java.nio.file.Path;
import java.util.Set;
import org.longctx.checkpoints.Storage;
import org.longctx.search.FactorFile;
import org.longctx.trainer.HfExport;

/**
 * Writes a Hugging Face model folder (safetensors, config.json with the rope the model uses,
 * generation_config.json, tokenizer files) from a Hugging Face folder or a longctx checkpoint.
 *
 * <pre>Usage: longctx export --from DIR --out DIR [--dtype float32|float16|bfloat16]</pre>
 */
public final class ExportJob {
  static final String USAGE = """
      Usage: longctx export --from DIR --out DIR [--dtype float32|float16|bfloat16]
                            [--max-shard-size 5GB] [--tokenizer DIR] [--factors FILE] [--plain-llama]

      Writes a folder transformers loads with AutoModelForCausalLM.from_pretrained: weights as
      safetensors (sharded past --max-shard-size, with model.safetensors.index.json),
      config.json carrying the rope scaling the model uses (rope_scaling + rope_theta for
      transformers 4.x and rope_parameters for 5.x), generation_config.json, and the tokenizer
      files of the source (or of --tokenizer).

      --from            a Hugging Face folder, a longctx step directory, or a checkpoint root
                        (its latest complete step); local path or any Hadoop URI
      --out             the folder to create (must not exist, or be empty)
      --dtype           float32 (default), float16 (overflow is counted and reported) or
                        bfloat16 (rounded to nearest even)
      --max-shard-size  e.g. 5GB (default, as transformers), 500MB, 2GiB
      --tokenizer       a folder holding tokenizer.json etc., when the source has none
      --factors         a factors.json written by longctx search: the folder's rope becomes
                        that longrope (short_factor, long_factor, factor, attention_factor,
                        original_max_position_embeddings; max_position_embeddings = its target)
      --plain-llama     a model with memory layers (LongLLaMA, a fot run) is written as a plain
                        LlamaForCausalLM that transformers loads without LongLLaMA's code; it
                        loses the memory and reads at most its window. Without this flag such a
                        model keeps LongLLaMA's config.json (LongLlamaForCausalLM, mem_layers, …)
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "export", USAGE,
      Set.of("--plain-llama"), Set.of("--from", "--out", "--dtype", "--max-shard-size", "--tokenizer", "--factors"),
      ExportJob::run);

  private ExportJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    String dtype = args.value("--dtype").orElse("float32");
    if (!Set.of("float32", "float16", "bfloat16").contains(dtype)) {
      throw new UsageException("--dtype must be float32, float16 or bfloat16, got '" + dtype + "'");
    }
    long shard;
    try {
      shard = HfExport.parseSize(args.value("--max-shard-size").orElse("5GB"));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--max-shard-size: " + e.getMessage());
    }
    FactorFile factors = null;
    if (args.value("--factors").isPresent()) {
      try {
        factors = FactorFile.read(Path.of(args.value("--factors").get()));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--" + e.getMessage());
      }
    }
    HfExport.Result r = HfExport.export(
        Storage.path(args.required("--from")), Storage.path(args.required("--out")), dtype, shard,
        args.value("--tokenizer").map(Storage::path).orElse(null), Storage.defaultConf(),
        factors == null ? null : factors.toRopeConfig(0), factors == null ? 0 : factors.targetLength(),
        args.flag("--plain-llama"));
    System.out.println("exported " + r.config().architecture().className() + " (rope " + r.config().rope().ropeType()
        + ", " + dtype + ") to " + r.folder() + ": " + String.join(", ", r.files())
        + (r.float16Overflows() > 0 ? "; " + r.float16Overflows() + " values overflowed float16" : ""));
    return 0;
  }
}
