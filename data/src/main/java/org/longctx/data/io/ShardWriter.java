package org.longctx.data.io;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.longctx.data.DataConfig.Layout;

/**
 * Writes one Arrow shard in {@link ShardFormat}, batch by batch, so a shard of any size
 * needs only one batch in memory. Output bytes depend only on the rows written (no
 * timestamps, fixed batch boundaries), so re-running a job reproduces identical files.
 */
public final class ShardWriter implements AutoCloseable {
  private final Layout layout;
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final ArrowFileWriter writer;
  private final VarCharVector ids;
  private final VarCharVector sources;
  private final VarCharVector origins;
  private final ListVector tokens;
  private final ListVector docStarts;

  private int batchRows;
  private long batchTokens;
  private long rows;
  private long totalTokens;
  private boolean closed;

  /**
   * @param out where the file goes; closed by {@link #close()}
   * @param tokenizerSha256 the tokenizer fingerprint recorded in the footer
   */
  public ShardWriter(WritableByteChannel out, Layout layout, String tokenizerSha256) throws IOException {
    this.layout = layout;
    this.allocator = new RootAllocator();
    this.root = VectorSchemaRoot.create(ShardFormat.schema(layout), allocator);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(ShardFormat.FORMAT_KEY, ShardFormat.FORMAT_VERSION);
    meta.put(ShardFormat.LAYOUT_KEY, layout.name().toLowerCase(java.util.Locale.ROOT));
    meta.put(ShardFormat.TOKENIZER_KEY, tokenizerSha256);
    this.writer = new ArrowFileWriter(root, null, out, meta);
    this.tokens = (ListVector) root.getVector(ShardFormat.TOKENS);
    if (layout == Layout.DOCUMENTS) {
      ids = (VarCharVector) root.getVector(ShardFormat.ID);
      sources = (VarCharVector) root.getVector(ShardFormat.SOURCE);
      origins = (VarCharVector) root.getVector(ShardFormat.ORIGIN);
      docStarts = null;
    } else {
      ids = sources = origins = null;
      docStarts = (ListVector) root.getVector(ShardFormat.DOC_STARTS);
    }
    writer.start();
    root.allocateNew();
  }

  /** Appends one document row ({@code documents} layout): {@code tokens[0, length)}. */
  public void addDocument(String id, String source, String origin, int[] docTokens, int length) throws IOException {
    if (layout != Layout.DOCUMENTS) {
      throw new IllegalStateException("addDocument on a " + layout + " shard");
    }
    ids.setSafe(batchRows, id.getBytes(StandardCharsets.UTF_8));
    sources.setSafe(batchRows, source.getBytes(StandardCharsets.UTF_8));
    origins.setSafe(batchRows, origin.getBytes(StandardCharsets.UTF_8));
    appendInts(tokens, batchRows, docTokens, length);
    endRow(length);
  }

  /** Appends one packed row ({@code packed} layout). */
  public void addSequence(int[] sequence, int length, int[] starts, int startCount) throws IOException {
    if (layout != Layout.PACKED) {
      throw new IllegalStateException("addSequence on a " + layout + " shard");
    }
    appendInts(tokens, batchRows, sequence, length);
    appendInts(docStarts, batchRows, starts, startCount);
    endRow(length);
  }

  /**
   * Appends {@code values[0, length)} as row {@code row} of {@code list}. The values go in with
   * plain stores; their validity bits (all set: the items are never null) are written once
   * per batch in {@link #markItemsValid}, not bit by bit.
   */
  private static void appendInts(ListVector list, int row, int[] values, int length) {
    int offset = list.startNewValue(row);
    IntVector data = (IntVector) list.getDataVector();
    while (data.getValueCapacity() < offset + length) {
      data.reAlloc();
    }
    if (length > 0) {
      // one bulk copy; Arrow buffers are little-endian like the view
      data.getDataBuffer().nioBuffer((long) offset * Integer.BYTES, length * Integer.BYTES)
          .order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(values, 0, length);
    }
    list.endValue(row, length);
  }

  /** Sets the validity bits of a list's first {@code count} items, whole bytes at a time. */
  private static void markItemsValid(ListVector list, int count) {
    ArrowBuf validity = ((IntVector) list.getDataVector()).getValidityBuffer();
    int fullBytes = count / 8;
    validity.setOne(0L, (long) fullBytes);
    for (int i = fullBytes * 8; i < count; i++) {
      BitVectorHelper.setBit(validity, i);
    }
  }

  private void endRow(int length) throws IOException {
    batchRows++;
    batchTokens += length;
    rows++;
    totalTokens += length;
    if (batchRows >= ShardFormat.MAX_BATCH_ROWS || batchTokens >= ShardFormat.MAX_BATCH_TOKENS) {
      flush();
    }
  }

  private void flush() throws IOException {
    if (batchRows == 0) {
      return;
    }
    root.setRowCount(batchRows);
    markItemsValid(tokens, tokens.getOffsetBuffer().getInt((long) batchRows * ListVector.OFFSET_WIDTH));
    if (docStarts != null) {
      markItemsValid(docStarts, docStarts.getOffsetBuffer().getInt((long) batchRows * ListVector.OFFSET_WIDTH));
    }
    writer.writeBatch();
    root.allocateNew();
    batchRows = 0;
    batchTokens = 0;
  }

  /** Rows written so far. */
  public long rows() {
    return rows;
  }

  /** Tokens written so far. */
  public long tokens() {
    return totalTokens;
  }

  /** Writes the last batch and the footer, then closes the output. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      flush();
      writer.end();
    } finally {
      writer.close();
      root.close();
      allocator.close();
    }
  }
}
