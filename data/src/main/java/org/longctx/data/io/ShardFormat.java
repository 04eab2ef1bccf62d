package org.longctx.data.io;

import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.longctx.data.DataConfig.Layout;

/**
 * The Arrow IPC file layout of prepared shards ({@code part-NNNNN.arrow}).
 *
 * <p>{@code documents}: {@code id} (utf8: hex of the first 16 bytes of the text's SHA-256),
 * {@code source} (utf8), {@code origin} (utf8: {@code file:line} of the raw record),
 * {@code tokens} (list&lt;int32&gt;: BOS + content + EOS as configured).
 *
 * <p>{@code packed}: {@code tokens} (list&lt;int32&gt;, exactly {@code seq_len} each) and
 * {@code doc_starts} (list&lt;int32&gt;: offsets in the row where a document begins; a row
 * may start inside a document carried over from the previous row).
 *
 * <p>The file footer's metadata holds {@link #LAYOUT_KEY}, {@link #TOKENIZER_KEY} and
 * {@link #FORMAT_KEY}. Rows are written in record batches of at most
 * {@link #MAX_BATCH_ROWS} rows or about {@link #MAX_BATCH_TOKENS} tokens, so a reader
 * can fetch one row by loading one small batch.
 */
public final class ShardFormat {
  public static final String LAYOUT_KEY = "longctx.layout";
  public static final String TOKENIZER_KEY = "longctx.tokenizer_sha256";
  public static final String FORMAT_KEY = "longctx.format_version";
  public static final String FORMAT_VERSION = "1";

  public static final int MAX_BATCH_ROWS = 1024;
  public static final int MAX_BATCH_TOKENS = 1 << 18;

  public static final String ID = "id";
  public static final String SOURCE = "source";
  public static final String ORIGIN = "origin";
  public static final String TOKENS = "tokens";
  public static final String DOC_STARTS = "doc_starts";

  private ShardFormat() {}

  /** The name of the shard holding partition {@code index}: {@code part-00000.arrow}. */
  public static String partName(int index) {
    return String.format("part-%05d.arrow", index);
  }

  public static Schema schema(Layout layout) {
    return switch (layout) {
      case DOCUMENTS -> new Schema(List.of(utf8(ID), utf8(SOURCE), utf8(ORIGIN), intList(TOKENS)));
      case PACKED -> new Schema(List.of(intList(TOKENS), intList(DOC_STARTS)));
    };
  }

  private static Field utf8(String name) {
    return new Field(name, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null);
  }

  private static Field intList(String name) {
    Field item = new Field("item", FieldType.notNullable(new ArrowType.Int(32, true)), null);
    return new Field(name, FieldType.notNullable(ArrowType.List.INSTANCE), List.of(item));
  }
}
