package org.longctx.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.longctx.data.tokenizer.ByteLevelTokenizer;

/**
 * Writes tokenizers the project can use without downloading anything.
 *
 * <pre>Usage: longctx tokenizer byte-level --out DIR [--overwrite]</pre>
 */
public final class TokenizerJob {
  static final String USAGE = """
      Usage: longctx tokenizer byte-level --out DIR [--overwrite]

      byte-level   writes DIR/tokenizer.json and DIR/tokenizer_config.json: a Hugging Face
                   tokenizer with one token per byte (ids 0-255 = the byte values) and the
                   special tokens <s> = 256 (BOS), </s> = 257 (EOS), <pad> = 258; vocabulary
                   size 259. Any text round-trips; transformers loads it as
                   PreTrainedTokenizerFast.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "tokenizer", USAGE,
      Set.of("--overwrite"), Set.of("--out"), TokenizerJob::run);

  private TokenizerJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    List<String> words = args.positionals();
    if (words.size() != 1 || !words.get(0).equals("byte-level")) {
      throw new UsageException("give the kind of tokenizer to write: byte-level"
          + (words.isEmpty() ? "" : " (got '" + String.join(" ", words) + "')"));
    }
    Path dir = Path.of(args.required("--out"));
    if (Files.exists(dir.resolve("tokenizer.json")) && !args.flag("--overwrite")) {
      throw new UsageException(dir.resolve("tokenizer.json") + " exists; pass --overwrite to replace it");
    }
    Path file = ByteLevelTokenizer.writeTo(dir);
    System.out.println("wrote " + file + " (byte-level: ids 0-255 = bytes, <s> = " + ByteLevelTokenizer.BOS_ID
        + ", </s> = " + ByteLevelTokenizer.EOS_ID + ", <pad> = " + ByteLevelTokenizer.PAD_ID + ", vocab_size "
        + ByteLevelTokenizer.VOCAB_SIZE + ")");
    return 0;
  }
}
