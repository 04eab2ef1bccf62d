package org.longctx.data.prepare;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import org.longctx.data.DataConfig;
import org.longctx.data.DataConfig.Layout;
import org.longctx.data.io.Compression;
import org.longctx.data.io.LineReader;
import org.longctx.data.io.ShardWriter;
import org.longctx.data.tokenizer.TextTokenizer;

/**
 * The work of one partition: reads one raw shard line by line, parses, filters, tokenizes
 * and writes the kept documents to one Arrow shard, counting every record it does not keep
 * by {@link Reason} and writing bad input to the reject sink. Spark-free, so it is tested
 * directly; the Spark job runs one of these per input file.
 *
 * <p>Filter order: parse → source allow/deny → duplicate → tokenize → truncate → min/max
 * length. Duplicates are decided before (by a scan of all inputs) and passed in as line
 * numbers, so the first copy in input order is the one kept.
 */
public final class ShardProcessor {
  private final DataConfig config;
  private final TextTokenizer tokenizer;
  private final RecordParser parser;
  private final Set<String> allow;
  private final Set<String> deny;
  private final MessageDigest sha256;
  /** Reused token buffer ({@code [0]} grows as needed): one document's ids at a time. */
  private final int[][] tokenBuffer = new int[1][];
  private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();

  /** Lines of this file that repeat an earlier document (sorted ascending). */
  public interface Duplicates {
    boolean contains(long line);

    static Duplicates none() {
      return line -> false;
    }

    /** Walks a sorted array; lines are asked in increasing order. */
    static Duplicates sorted(long[] lines) {
      return new Duplicates() {
        int next;

        @Override
        public boolean contains(long line) {
          while (next < lines.length && lines[next] < line) {
            next++;
          }
          return next < lines.length && lines[next] == line;
        }
      };
    }
  }

  public ShardProcessor(DataConfig config, TextTokenizer tokenizer) {
    this.config = config;
    this.tokenizer = tokenizer;
    this.parser = new RecordParser(config);
    this.allow = new HashSet<>(config.allowSources());
    this.deny = new HashSet<>(config.denySources());
    this.sha256 = newSha256();
  }

  /**
   * Processes one shard.
   *
   * @param file the shard's name as recorded in origins and rejects
   * @param raw its bytes as stored (compressed or not); closed here
   * @param out the Arrow shard for kept documents
   * @param rejects where bad input goes
   * @param duplicates lines to drop as duplicates
   * @throws IOException when reading the storage itself fails (not when the archive is
   *     damaged: that is counted) or writing fails
   */
  public PartStats process(String file, InputStream raw, ShardWriter out, RejectSink rejects, Duplicates duplicates)
      throws IOException {
    PartStats stats = new PartStats();
    long cpuStart = threads.getCurrentThreadCpuTime();
    Packer packer = config.layout() == Layout.PACKED ? new Packer(config.seqLen(), out) : null;
    GuardedStream guarded = new GuardedStream(raw);
    try (InputStream in = openDecompressed(file, guarded, stats, rejects)) {
      if (in != null) {
        LineReader lines = new LineReader(in, config.maxLineBytes(), RejectSink.HEAD_BYTES);
        while (true) {
          boolean more;
          try {
            more = lines.next();
          } catch (IOException e) {
            if (guarded.failed) {
              throw e; // the storage failed, not the data: let the task fail and be retried
            }
            byte[] head = lines.pendingHead();
            stats.recordsIn++;
            reject(stats, null, rejects, file, lines.lineNumber(), archiveReason(e),
                "archive ends or breaks after " + (lines.lineNumber() - 1) + " complete lines: " + e.getMessage(),
                lines.pendingLength(), head, head.length);
            break;
          }
          if (!more) {
            break;
          }
          stats.recordsIn++;
          processLine(file, lines, stats, out, packer, rejects, duplicates);
        }
      }
    }
    if (packer != null) {
      stats.packedTailTokens = packer.tail();
    }
    stats.rows = out.rows();
    stats.rowTokens = out.tokens();
    stats.rejectsWritten = rejects.written();
    stats.taskCpuNanos = threads.getCurrentThreadCpuTime() - cpuStart;
    return stats;
  }

  private InputStream openDecompressed(String file, GuardedStream raw, PartStats stats, RejectSink rejects)
      throws IOException {
    try {
      return Compression.of(file).open(raw);
    } catch (IOException e) {
      if (raw.failed) {
        throw e;
      }
      // not even a header: the whole file is one damaged record at line 1
      raw.close();
      stats.recordsIn++;
      reject(stats, null, rejects, file, 1, archiveReason(e), "cannot open archive: " + e.getMessage(), 0,
          new byte[0], 0);
      return null;
    }
  }

  private static Reason archiveReason(IOException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    return e instanceof EOFException || m.contains("end of") || m.contains("truncated")
        ? Reason.TRUNCATED_ARCHIVE : Reason.CORRUPT_ARCHIVE;
  }

  private void processLine(String file, LineReader lines, PartStats stats, ShardWriter out, Packer packer,
      RejectSink rejects, Duplicates duplicates) throws IOException {
    long lineNumber = lines.lineNumber();
    byte[] buf = lines.buffer();
    int len = lines.length();
    if (lines.tooLong()) {
      reject(stats, null, rejects, file, lineNumber, Reason.LINE_TOO_LONG,
          "line of " + lines.fullLength() + " bytes exceeds max_line_bytes " + config.maxLineBytes(),
          lines.fullLength(), buf, len);
      return;
    }
    RecordParser.Result parsed = parser.parse(buf, len);
    if (!parsed.ok()) {
      reject(stats, null, rejects, file, lineNumber, parsed.reason(), parsed.detail(), len, buf, len);
      return;
    }
    String source = parsed.source();
    PartStats.SourceStats perSource = stats.source(source);
    perSource.in++;
    if (deny.contains(source)) {
      drop(stats, perSource, Reason.SOURCE_DENIED);
      return;
    }
    if (!allow.isEmpty() && !allow.contains(source)) {
      drop(stats, perSource, Reason.SOURCE_NOT_ALLOWED);
      return;
    }
    if (duplicates.contains(lineNumber)) {
      drop(stats, perSource, Reason.DUPLICATE);
      return;
    }
    int encoded;
    long cpuBefore = threads.getCurrentThreadCpuTime();
    try {
      encoded = tokenizer.encodeInto(parsed.text(), config.addBos(), config.addEos(), tokenBuffer);
      stats.tokenizerCpuNanos += threads.getCurrentThreadCpuTime() - cpuBefore;
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException && String.valueOf(e.getMessage()).startsWith("data.")) {
        throw e; // a config problem (no BOS/EOS), not a bad document
      }
      reject(stats, perSource, rejects, file, lineNumber, Reason.TOKENIZER_ERROR, String.valueOf(e.getMessage()),
          len, buf, len);
      return;
    }
    int[] tokens = tokenBuffer[0];
    int length = encoded;
    if (config.truncateTokens() > 0 && length > config.truncateTokens()) {
      length = config.truncateTokens();
      if (config.addEos()) {
        tokens[length - 1] = tokenizer.spec().eosId(); // a cut document still ends with EOS
      }
      stats.truncatedDocuments++;
      stats.tokensCut += encoded - length;
    }
    if (length < config.minTokens()) {
      drop(stats, perSource, Reason.TOO_SHORT);
      return;
    }
    if (config.maxTokens() > 0 && length > config.maxTokens()) {
      drop(stats, perSource, Reason.TOO_LONG);
      return;
    }
    stats.kept++;
    stats.tokensKept += length;
    stats.addKeptLength(length);
    perSource.kept++;
    perSource.tokens += length;
    if (packer != null) {
      packer.add(tokens, length);
    } else {
      out.addDocument(documentId(parsed.text()), source, file + ":" + lineNumber, tokens, length);
    }
  }

  /** Hex of the first 16 bytes of the text's SHA-256: the document id and its dedup key. */
  String documentId(String text) {
    return contentKey(sha256, text);
  }

  /** The dedup key of a text (same as the document id). */
  public static String contentKey(MessageDigest sha256, String text) {
    sha256.reset();
    return HexFormat.of().formatHex(sha256.digest(text.getBytes(StandardCharsets.UTF_8)), 0, 16);
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  private static void drop(PartStats stats, PartStats.SourceStats perSource, Reason reason) {
    stats.rejected[reason.ordinal()]++;
    perSource.rejected[reason.ordinal()]++;
  }

  private static void reject(PartStats stats, PartStats.SourceStats perSource, RejectSink rejects, String file,
      long line, Reason reason, String detail, long bytes, byte[] head, int headLength) throws IOException {
    stats.rejected[reason.ordinal()]++;
    if (perSource != null) {
      perSource.rejected[reason.ordinal()]++;
    }
    rejects.write(file, line, reason, detail, bytes, head, headLength);
  }

  /** Remembers whether the storage stream itself failed, to tell storage errors from damaged archives. */
  static final class GuardedStream extends FilterInputStream {
    boolean failed;

    GuardedStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public long skip(long n) throws IOException {
      try {
        return super.skip(n);
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }
  }
}
