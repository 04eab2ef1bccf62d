package org.longctx.data;

import java.util.List;

/**
 * The {@code data:} section of an experiment config.
 *
 * @param inputs raw shard globs on any Hadoop file system (jsonl, jsonl.gz, jsonl.zst)
 * @param tokenizer path of a Hugging Face {@code tokenizer.json} (or the folder holding it)
 * @param prepared where the prepare job writes (and the trainer reads) Arrow shards
 */
public record DataConfig(List<String> inputs, String tokenizer, String prepared) {

  public DataConfig {
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    tokenizer = tokenizer == null ? "" : tokenizer;
    prepared = prepared == null ? "" : prepared;
  }

  public static DataConfig defaults() {
    return new DataConfig(List.of(), "", "");
  }
}
