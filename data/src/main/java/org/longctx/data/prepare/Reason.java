package org.longctx.data.prepare;

import java.util.Locale;

/**
 * Why a raw record did not become a prepared document. Records rejected for bad input
 * ({@link #badInput()}) are also written to {@code rejects/} with their location; records
 * dropped by a filter the config asked for are only counted.
 */
public enum Reason {
  // stage "read": the bytes of a line could not be had
  LINE_TOO_LONG("read", true),
  BLANK_LINE("read", true),
  TRUNCATED_ARCHIVE("read", true),
  CORRUPT_ARCHIVE("read", true),
  // stage "parse": a line that is not a usable document
  INVALID_UTF8("parse", true),
  MALFORMED_JSON("parse", true),
  MISSING_TEXT("parse", true),
  TEXT_NOT_STRING("parse", true),
  EMPTY_TEXT("parse", true),
  // filters
  SOURCE_DENIED("source", false),
  SOURCE_NOT_ALLOWED("source", false),
  DUPLICATE("dedup", false),
  TOKENIZER_ERROR("tokenize", true),
  TOO_SHORT("length", false),
  TOO_LONG("length", false);

  /** The pipeline stages in order; every reason belongs to one. */
  public static final String[] STAGES = {"read", "parse", "source", "dedup", "tokenize", "length"};

  private final String stage;
  private final boolean badInput;

  Reason(String stage, boolean badInput) {
    this.stage = stage;
    this.badInput = badInput;
  }

  /** The name used in the manifest and reject files, e.g. {@code invalid_utf8}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public String stage() {
    return stage;
  }

  /** Whether the record is damaged input (written to {@code rejects/}) rather than filtered out. */
  public boolean badInput() {
    return badInput;
  }
}
