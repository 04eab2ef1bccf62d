package org.longctx.data.prepare;

import java.io.Serializable;
import java.util.Map;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSpec;

/**
 * What every prepare task needs, shipped once per executor as a Spark broadcast.
 *
 * @param config the {@code data:} section
 * @param tokenizer the tokenizer, as bytes (executors need no access to its path)
 * @param hadoop the driver's Hadoop configuration entries (file system settings, credentials)
 * @param tempDir the uncommitted output folder tasks write into
 * @param duplicates per input index, the sorted line numbers that repeat an earlier document
 */
public record PrepareContext(
    DataConfig config, TokenizerSpec tokenizer, Map<String, String> hadoop, String tempDir, Map<Integer, long[]> duplicates)
    implements Serializable {

  public PrepareContext {
    hadoop = Map.copyOf(hadoop);
    duplicates = Map.copyOf(duplicates);
  }

  PrepareContext withDuplicates(Map<Integer, long[]> found) {
    return new PrepareContext(config, tokenizer, hadoop, tempDir, found);
  }
}
