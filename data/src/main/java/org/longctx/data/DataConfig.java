package org.longctx.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code data:} section of an experiment config: what the prepare job reads, how it
 * tokenizes and filters, and where it writes (which is also where the trainer reads).
 *
 * @param inputs raw shard globs on any Hadoop file system ({@code file://}, {@code hdfs://},
 *     {@code s3a://}, or a plain local path) of {@code .jsonl}, {@code .jsonl.gz} or
 *     {@code .jsonl.zst} files; the compression is chosen by the file name's ending
 * @param tokenizer a Hugging Face {@code tokenizer.json}, or the folder holding it
 * @param prepared the folder the prepare job writes Arrow shards and {@code manifest.json} to
 * @param layout {@code documents} (one row per document) or {@code packed} (rows of exactly
 *     {@code seq_len} tokens, documents joined with EOS)
 * @param textField dotted JSON path of the document text, {@code text} for Pile and RedPajama
 * @param sourceFields dotted JSON paths tried in order for the document's source; the first
 *     one holding a string wins ({@code meta.pile_set_name} for the Pile,
 *     {@code red_pajama_subset} for RedPajama-1T); a document with none gets source
 *     {@code unknown}
 * @param allowSources keep only these sources (empty keeps every source)
 * @param denySources drop these sources
 * @param dedup drop exact duplicates (same text), keeping the first in input order
 * @param minTokens drop documents with fewer tokens (BOS/EOS included); 0 keeps all
 * @param maxTokens drop documents with more tokens (after truncation); 0 means no limit
 * @param truncateTokens cut longer documents to this many tokens (BOS/EOS kept); 0 never cuts
 * @param addBos start every document with the tokenizer's BOS token
 * @param addEos end every document with the tokenizer's EOS token (required by {@code packed})
 * @param bosToken the BOS token's text; empty means: {@code tokenizer_config.json}'s
 *     {@code bos_token}, else the first of {@code <s>}, {@code <|begin_of_text|>},
 *     {@code <bos>} that the tokenizer defines
 * @param eosToken the EOS token's text; empty means the same lookup with {@code eos_token},
 *     {@code </s>}, {@code <|end_of_text|>}, {@code <|endoftext|>}, {@code <eos>}
 * @param splitSpecialTokens encode special-token text found inside a document (a literal
 *     {@code <|endoftext|>}) as the plain text it is, as {@code transformers} does with
 *     {@code split_special_tokens=True}; false lets documents inject control tokens
 * @param seqLen tokens per row in the {@code packed} layout
 * @param maxLineBytes lines longer than this are rejected ({@code line_too_long}) without
 *     being held in memory
 */
public record DataConfig(
    List<String> inputs,
    String tokenizer,
    String prepared,
    Layout layout,
    String textField,
    List<String> sourceFields,
    List<String> allowSources,
    List<String> denySources,
    boolean dedup,
    int minTokens,
    int maxTokens,
    int truncateTokens,
    boolean addBos,
    boolean addEos,
    String bosToken,
    String eosToken,
    boolean splitSpecialTokens,
    int seqLen,
    int maxLineBytes) implements Serializable {

  /** How prepared rows are laid out. */
  public enum Layout {
    /** One row per document: what PoSE and FoT sample from. */
    DOCUMENTS,
    /** Fixed-length rows of {@code seq_len} tokens, documents joined with EOS. */
    PACKED
  }

  /** Lines longer than this cannot be a document a JVM array holds (2^31 - headroom). */
  public static final int MAX_LINE_BYTES_LIMIT = Integer.MAX_VALUE - 64;

  public DataConfig {
    inputs = copy(inputs, "inputs");
    tokenizer = tokenizer == null ? "" : tokenizer.strip();
    prepared = prepared == null ? "" : prepared.strip();
    if (layout == null) {
      throw new IllegalArgumentException("layout: must be documents or packed, got null");
    }
    textField = textField == null ? "" : textField.strip();
    checkPath("text_field", textField);
    sourceFields = copy(sourceFields, "source_fields");
    for (int i = 0; i < sourceFields.size(); i++) {
      checkPath("source_fields[" + i + "]", sourceFields.get(i));
    }
    allowSources = copy(allowSources, "allow_sources");
    denySources = copy(denySources, "deny_sources");
    Set<String> both = new LinkedHashSet<>(allowSources);
    both.retainAll(denySources);
    if (!both.isEmpty()) {
      throw new IllegalArgumentException("allow_sources and deny_sources both name " + both
          + "; a source may be in at most one of them");
    }
    if (minTokens < 0) {
      throw new IllegalArgumentException("min_tokens: must be >= 0, got " + minTokens);
    }
    if (maxTokens < 0) {
      throw new IllegalArgumentException("max_tokens: must be >= 0 (0 = no limit), got " + maxTokens);
    }
    if (maxTokens > 0 && minTokens > maxTokens) {
      throw new IllegalArgumentException("min_tokens: must be <= max_tokens (" + maxTokens + "), got " + minTokens);
    }
    int specials = (addBos ? 1 : 0) + (addEos ? 1 : 0);
    if (truncateTokens < 0 || (truncateTokens > 0 && truncateTokens <= specials)) {
      throw new IllegalArgumentException("truncate_tokens: must be 0 (never cut) or > " + specials
          + " (room for content after BOS/EOS), got " + truncateTokens);
    }
    if (truncateTokens > 0 && maxTokens > 0 && truncateTokens > maxTokens) {
      throw new IllegalArgumentException("truncate_tokens: must be <= max_tokens (" + maxTokens
          + "), else every cut document is dropped as too long; got " + truncateTokens);
    }
    if (truncateTokens > 0 && minTokens > truncateTokens) {
      throw new IllegalArgumentException("min_tokens: must be <= truncate_tokens (" + truncateTokens + "), got " + minTokens);
    }
    bosToken = bosToken == null ? "" : bosToken;
    eosToken = eosToken == null ? "" : eosToken;
    if (layout == Layout.PACKED && !addEos) {
      throw new IllegalArgumentException("add_eos: the packed layout joins documents with EOS, so it must be true");
    }
    if (seqLen < 2) {
      throw new IllegalArgumentException("seq_len: must be >= 2, got " + seqLen);
    }
    if (maxLineBytes < 64 || maxLineBytes > MAX_LINE_BYTES_LIMIT) {
      throw new IllegalArgumentException("max_line_bytes: must be in [64, " + MAX_LINE_BYTES_LIMIT + "], got " + maxLineBytes);
    }
  }

  public static DataConfig defaults() {
    return new DataConfig(
        List.of(), "", "", Layout.DOCUMENTS, "text", List.of("meta.pile_set_name", "red_pajama_subset"),
        List.of(), List.of(), true, 0, 0, 0, true, true, "", "", true, 4096, 32 << 20);
  }

  /** This config with {@code inputs}, {@code tokenizer} and {@code prepared} replaced. */
  public DataConfig withPaths(List<String> newInputs, String newTokenizer, String newPrepared) {
    return new DataConfig(newInputs, newTokenizer, newPrepared, layout, textField, sourceFields, allowSources,
        denySources, dedup, minTokens, maxTokens, truncateTokens, addBos, addEos, bosToken, eosToken,
        splitSpecialTokens, seqLen, maxLineBytes);
  }

  /**
   * Checks what the prepare job needs beyond the record's own checks: inputs, a tokenizer and
   * an output folder. Messages name the key with its section.
   */
  public void checkReadyToPrepare() {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("data.inputs: give at least one shard glob, e.g. data/pile/*.jsonl.zst");
    }
    if (tokenizer.isEmpty()) {
      throw new IllegalArgumentException("data.tokenizer: give the path of a tokenizer.json (or its folder); "
          + "'longctx tokenizer byte-level --out DIR' writes one");
    }
    if (prepared.isEmpty()) {
      throw new IllegalArgumentException("data.prepared: give the output folder for the Arrow shards");
    }
  }

  private static List<String> copy(List<String> values, String key) {
    if (values == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(key + "[" + i + "]: must be a non-empty string, got '" + v + "'");
      }
      out.add(v.strip());
    }
    return List.copyOf(out);
  }

  private static void checkPath(String key, String path) {
    if (path.isEmpty() || path.startsWith(".") || path.endsWith(".") || path.contains("..")) {
      throw new IllegalArgumentException(key + ": must be a dotted JSON path such as text or meta.pile_set_name, got '"
          + path + "'");
    }
  }
}
