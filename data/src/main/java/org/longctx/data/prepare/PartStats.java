package org.longctx.data.prepare;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts for one partition (one input file), merged on the driver into the manifest. The
 * invariant the tests check: {@code recordsIn == kept + sum(rejected)}, overall and per
 * source.
 */
public final class PartStats implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Buckets of the length histogram: bucket b holds lengths in [2^(b-1), 2^b), bucket 0 length 0. */
  public static final int HISTOGRAM_BUCKETS = 33;

  /** Counts for the documents of one source. */
  public static final class SourceStats implements Serializable {
    private static final long serialVersionUID = 1L;
    public long in;
    public long kept;
    public long tokens;
    public final long[] rejected = new long[Reason.values().length];

    void merge(SourceStats o) {
      in += o.in;
      kept += o.kept;
      tokens += o.tokens;
      for (int i = 0; i < rejected.length; i++) {
        rejected[i] += o.rejected[i];
      }
    }
  }

  /** Raw records read: lines, plus one for a damaged archive tail. */
  public long recordsIn;
  public long kept;
  /** Tokens of kept documents (BOS/EOS included, after truncation). */
  public long tokensKept;
  public final long[] rejected = new long[Reason.values().length];
  /** Rejected records written to {@code rejects/}. */
  public long rejectsWritten;
  public long truncatedDocuments;
  /** Tokens removed by truncation. */
  public long tokensCut;
  public final long[] lengthHistogram = new long[HISTOGRAM_BUCKETS];
  /** Rows and tokens written to the shard (differ from kept/tokensKept in the packed layout). */
  public long rows;
  public long rowTokens;
  /** Packed layout: tokens at the end of the partition that did not fill a whole row. */
  public long packedTailTokens;
  /** CPU time of the task's thread, and the part of it spent in the tokenizer (for logs; not in the manifest). */
  public long taskCpuNanos;
  public long tokenizerCpuNanos;
  /** Per source (documents that parsed). */
  public final Map<String, SourceStats> sources = new TreeMap<>();

  public SourceStats source(String name) {
    return sources.computeIfAbsent(name, k -> new SourceStats());
  }

  public long rejectedTotal() {
    long sum = 0;
    for (long r : rejected) {
      sum += r;
    }
    return sum;
  }

  public long rejected(Reason reason) {
    return rejected[reason.ordinal()];
  }

  void addKeptLength(int length) {
    lengthHistogram[bucket(length)]++;
  }

  /** The histogram bucket of {@code length}: 0 for 0, else 1 + floor(log2(length)). */
  public static int bucket(long length) {
    return 64 - Long.numberOfLeadingZeros(length);
  }

  public void merge(PartStats o) {
    recordsIn += o.recordsIn;
    kept += o.kept;
    tokensKept += o.tokensKept;
    for (int i = 0; i < rejected.length; i++) {
      rejected[i] += o.rejected[i];
    }
    rejectsWritten += o.rejectsWritten;
    truncatedDocuments += o.truncatedDocuments;
    tokensCut += o.tokensCut;
    for (int i = 0; i < lengthHistogram.length; i++) {
      lengthHistogram[i] += o.lengthHistogram[i];
    }
    rows += o.rows;
    rowTokens += o.rowTokens;
    packedTailTokens += o.packedTailTokens;
    taskCpuNanos += o.taskCpuNanos;
    tokenizerCpuNanos += o.tokenizerCpuNanos;
    o.sources.forEach((name, s) -> source(name).merge(s));
  }
}
