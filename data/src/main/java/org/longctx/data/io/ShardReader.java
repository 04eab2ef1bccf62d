package org.longctx.data.io;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.longctx.data.DataConfig.Layout;

/**
 * Random access to the rows of one Arrow shard. Opening reads only the footer and the small
 * header of each record batch (for its row count); {@link #row(long)} then loads the one
 * batch that holds the row, and keeps it for the next call.
 */
public final class ShardReader implements AutoCloseable {
  private final SeekableByteChannel channel;
  private final BufferAllocator allocator;
  private final ArrowFileReader reader;
  private final List<ArrowBlock> blocks;
  /** {@code batchStart[b]} = index of the first row of batch b; last entry = row count. */
  private final long[] batchStart;
  private final Layout layout;
  private final String tokenizerSha256;
  private int loadedBatch = -1;

  /** One row as stored. For {@code packed} shards id, source and origin are empty. */
  public record Row(String id, String source, String origin, int[] tokens, int[] docStarts) {}

  public ShardReader(SeekableByteChannel channel) throws IOException {
    this.channel = channel;
    this.allocator = new RootAllocator();
    try {
      this.reader = new ArrowFileReader(channel, allocator);
      this.blocks = reader.getRecordBlocks();
      Map<String, String> meta = reader.getMetaData();
      String layoutName = meta.get(ShardFormat.LAYOUT_KEY);
      if (layoutName == null) {
        throw new IOException("not a longctx shard: its footer has no " + ShardFormat.LAYOUT_KEY);
      }
      this.layout = Layout.valueOf(layoutName.toUpperCase(Locale.ROOT));
      this.tokenizerSha256 = meta.getOrDefault(ShardFormat.TOKENIZER_KEY, "");
      this.batchStart = new long[blocks.size() + 1];
      for (int b = 0; b < blocks.size(); b++) {
        batchStart[b + 1] = batchStart[b] + batchRows(blocks.get(b));
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Reads only the record batch's metadata message for its row count. */
  private long batchRows(ArrowBlock block) throws IOException {
    channel.position(block.getOffset());
    MessageMetadataResult message = MessageSerializer.readMessage(new ReadChannel(channel));
    if (message == null || message.headerType() != MessageHeader.RecordBatch) {
      throw new IOException("record block at " + block.getOffset() + " is not a record batch");
    }
    RecordBatch batch = (RecordBatch) message.getMessage().header(new RecordBatch());
    return batch.length();
  }

  public Layout layout() {
    return layout;
  }

  public String tokenizerSha256() {
    return tokenizerSha256;
  }

  public long rowCount() {
    return batchStart[batchStart.length - 1];
  }

  /** Rows in each record batch, in order. */
  public long[] batchRowCounts() {
    long[] out = new long[blocks.size()];
    for (int b = 0; b < out.length; b++) {
      out[b] = batchStart[b + 1] - batchStart[b];
    }
    return out;
  }

  /** Row {@code index} (0-based within this shard). */
  public Row row(long index) throws IOException {
    if (index < 0 || index >= rowCount()) {
      throw new IndexOutOfBoundsException("row " + index + " of a shard with " + rowCount() + " rows");
    }
    int b = Arrays.binarySearch(batchStart, index);
    int batch = b >= 0 ? b : -b - 2;
    while (batchStart[batch + 1] == batchStart[batch]) {
      batch++; // skip empty batches
    }
    if (batch != loadedBatch) {
      if (!reader.loadRecordBatch(blocks.get(batch))) {
        throw new IOException("cannot load record batch " + batch);
      }
      loadedBatch = batch;
    }
    int r = (int) (index - batchStart[batch]);
    VectorSchemaRoot root = reader.getVectorSchemaRoot();
    int[] tokens = ints((ListVector) root.getVector(ShardFormat.TOKENS), r);
    if (layout == Layout.DOCUMENTS) {
      return new Row(text(root, ShardFormat.ID, r), text(root, ShardFormat.SOURCE, r), text(root, ShardFormat.ORIGIN, r),
          tokens, new int[0]);
    }
    return new Row("", "", "", tokens, ints((ListVector) root.getVector(ShardFormat.DOC_STARTS), r));
  }

  private static String text(VectorSchemaRoot root, String name, int r) {
    return new String(((VarCharVector) root.getVector(name)).get(r), StandardCharsets.UTF_8);
  }

  private static int[] ints(ListVector list, int r) {
    ArrowBuf offsets = list.getOffsetBuffer();
    int start = offsets.getInt((long) r * ListVector.OFFSET_WIDTH);
    int end = offsets.getInt((long) (r + 1) * ListVector.OFFSET_WIDTH);
    int[] out = new int[end - start];
    IntVector data = (IntVector) list.getDataVector();
    data.getDataBuffer().nioBuffer((long) start * Integer.BYTES, out.length * Integer.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  @Override
  public void close() throws IOException {
    try {
      if (reader != null) {
        reader.close(); // closes the channel too
      } else {
        channel.close();
      }
    } finally {
      allocator.close();
    }
  }
}
