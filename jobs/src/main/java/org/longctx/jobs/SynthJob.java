package org.longctx.jobs;

import java.io.BufferedWriter;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.longctx.data.io.Compression;
import org.longctx.data.synth.DamagedCorpus;
import org.longctx.data.synth.SynthSample;
import org.longctx.data.synth.SynthTasks;

/**
 * Writes synthetic long-context data in the Pile jsonl format, deterministic by seed.
 *
 * <pre>Usage: longctx synth --task passkey|multikey|dependent|copy|damaged --out PATH [options]</pre>
 */
public final class SynthJob {
  static final String USAGE = """
      Usage: longctx synth --task TASK --out PATH [--count N] [--length N[,N...]] [--seed S] [options]

      Tasks (each sample is a pure function of seed, index and options):
        passkey    filler text with a pass key at a depth; ends "What is the pass key? The pass key is KEY."
                   options: --key-digits D (5), --depths d1,d2,... in [0, 1] (0,0.25,0.5,0.75,1)
        multikey   --keys K named pass keys at random depths; the question asks for one of them
                   options: --key-digits D, --keys K (4)
        dependent  long documents: records defined first, looked up again later, so the later
                   part is predictable only from the earlier part (perplexity by length)
                   options: --records R (0 = fill half the length)
        copy       "Say SPAN. Again: SPAN." with random numbers and pseudo-words: the densest copy
                   signal, which teaches a small model to copy (induction) in pre-training
        damaged    a small mixed Pile/RedPajama corpus (plain, .gz, .zst) with every kind of bad
                   record, for checking a prepare setup; --out is a folder
                   options: --max-line-bytes B (the data.max_line_bytes to exceed; 65536)

      --out       .jsonl, .jsonl.gz or .jsonl.zst (compression by name); a folder for damaged
      --count     samples (default 100); sample i has length[i % L] and depth[(i / L) % D]
      --length    characters per sample, one or more (default 4096); ASCII only, so with the
                  byte-level tokenizer a character is a token
      --seed      (default 0)
      Retrieval samples carry meta.answer and meta.prompt_chars (where the answer begins).
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "synth", USAGE,
      Set.of("--overwrite"),
      Set.of("--task", "--out", "--count", "--length", "--seed", "--depths", "--key-digits", "--keys", "--records",
          "--max-line-bytes"),
      SynthJob::run);

  private SynthJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    String task = args.required("--task");
    Path out = Path.of(args.required("--out"));
    long seed = longValue(args, "--seed", 0);
    if (task.equals("damaged")) {
      int maxLine = args.intValue("--max-line-bytes", 65536);
      if (maxLine < 64) {
        throw new UsageException("--max-line-bytes must be >= 64, got " + maxLine);
      }
      List<DamagedCorpus.Planted> planted = DamagedCorpus.write(out, seed, maxLine);
      long documents = planted.stream().filter(p -> p.kind() == DamagedCorpus.Kind.DOCUMENT).count();
      System.out.println("wrote " + DamagedCorpus.FILES.size() + " files to " + out + ": " + planted.size()
          + " records, " + documents + " well-formed documents, " + (planted.size() - documents) + " damaged records");
      return 0;
    }
    if (!List.of("passkey", "multikey", "dependent", "copy").contains(task)) {
      throw new UsageException("--task must be passkey, multikey, dependent, copy or damaged, got '" + task + "'");
    }
    int count = args.intValue("--count", 100);
    if (count < 1) {
      throw new UsageException("--count must be >= 1, got " + count);
    }
    List<Integer> lengths = new ArrayList<>();
    for (String s : args.value("--length").orElse("4096").split(",")) {
      int n = parseInt("--length", s);
      if (n < 64) {
        throw new UsageException("--length must be >= 64 characters, got " + n);
      }
      lengths.add(n);
    }
    List<Double> depths = new ArrayList<>();
    for (String s : args.value("--depths").orElse("0,0.25,0.5,0.75,1").split(",")) {
      double d;
      try {
        d = Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        throw new UsageException("--depths must be numbers in [0, 1], got '" + s + "'");
      }
      if (!(d >= 0 && d <= 1)) {
        throw new UsageException("--depths must be in [0, 1], got " + d);
      }
      depths.add(d);
    }
    int keyDigits = args.intValue("--key-digits", 5);
    if (keyDigits < 1 || keyDigits > 32) {
      throw new UsageException("--key-digits must be in [1, 32], got " + keyDigits);
    }
    int keys = args.intValue("--keys", 4);
    int records = args.intValue("--records", 0);
    if (records < 0) {
      throw new UsageException("--records must be >= 0, got " + records);
    }
    if (Files.exists(out) && !args.flag("--overwrite")) {
      throw new UsageException(out + " exists; pass --overwrite to replace it");
    }
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    long chars = 0;
    try (OutputStream raw = Files.newOutputStream(out);
        Writer w = new BufferedWriter(new OutputStreamWriter(Compression.of(out.toString()).create(raw),
            StandardCharsets.UTF_8), 1 << 16)) {
      for (int i = 0; i < count; i++) {
        int length = lengths.get(i % lengths.size());
        SynthSample s = switch (task) {
          case "passkey" -> SynthTasks.passkey(seed, i, length, keyDigits,
              depths.get((i / lengths.size()) % depths.size()));
          case "multikey" -> SynthTasks.multikey(seed, i, length, keyDigits, keys);
          case "copy" -> SynthTasks.copy(seed, i, length);
          default -> SynthTasks.dependent(seed, i, length, records);
        };
        chars += s.text().length();
        w.write(s.toJsonLine());
        w.write('\n');
      }
    } catch (IllegalArgumentException e) {
      Files.deleteIfExists(out);
      throw new UsageException(e.getMessage());
    }
    System.out.println("wrote " + count + " " + task + " samples (" + chars + " characters) to " + out);
    return 0;
  }

  private static int parseInt(String option, String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(option + " must be an integer, got '" + s + "'");
    }
  }

  private static long longValue(Args args, String option, long defaultValue) {
    String v = args.value(option).orElse(null);
    if (v == null) {
      return defaultValue;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " must be an integer, got '" + v + "'");
    }
  }
}
