package org.longctx.checkpoints.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/**
 * A tensor to write: name, type, shape and a supplier that produces its bytes only when the
 * writer reaches it, so tensors are converted and copied one at a time.
 *
 * @param name the tensor name
 * @param dtype the element type written to the file
 * @param shape dimensions, C order
 * @param data produces exactly elements × dtype bytes, little-endian, positioned at 0
 */
public record TensorEntry(String name, SafetensorsDtype dtype, long[] shape, Supplier<ByteBuffer> data) {

  public TensorEntry {
    if (name == null || name.isEmpty() || name.equals("__metadata__")) {
      throw new IllegalArgumentException("tensor name: '" + name + "' is not allowed");
    }
    shape = shape.clone();
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + java.util.Arrays.toString(shape));
      }
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Bytes this tensor occupies in the file. */
  public long byteSize() {
    return TensorInfo.elements(shape) * dtype.bytes();
  }

  /** A DJL array written in its own type (FLOAT32, FLOAT16, INT64, INT32, INT8, UINT8, BOOLEAN). */
  public static TensorEntry of(String name, NDArray array) {
    return of(name, array, SafetensorsDtype.of(array.getDataType()));
  }

  /**
   * A DJL array written as {@code target}. Float arrays (FLOAT32, FLOAT16) may be written as
   * F32, F16 or BF16; the conversion happens in Java, rounding to nearest even (float16
   * overflow becomes ±infinity). Other types must be written as themselves.
   */
  public static TensorEntry of(String name, NDArray array, SafetensorsDtype target) {
    DataType type = array.getDataType();
    SafetensorsDtype source = SafetensorsDtype.of(type);
    if (source != target && !(source.isFloat() && target.isFloat())) {
      throw new IllegalArgumentException("tensor '" + name + "': cannot write " + type + " as " + target + "; only float arrays change type");
    }
    long[] shape = array.getShape().getShape();
    return new TensorEntry(name, target, shape, () -> {
      ByteBuffer raw = array.toByteBuffer().order(ByteOrder.nativeOrder());
      ByteBuffer le = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
          ? raw.order(ByteOrder.LITTLE_ENDIAN) : swapToLittleEndian(raw, source);
      if (source == target) {
        return le;
      }
      long n = TensorInfo.elements(shape);
      ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * target.bytes())).order(ByteOrder.LITTLE_ENDIAN);
      SafetensorsReader.convert(le, source, out, target, n);
      out.flip();
      return out;
    });
  }

  /** Float values given in Java, written as {@code target} (F32, F16 or BF16). */
  public static TensorEntry ofFloats(String name, long[] shape, float[] values, SafetensorsDtype target) {
    if (!target.isFloat()) {
      throw new IllegalArgumentException("tensor '" + name + "': floats cannot be written as " + target);
    }
    if (TensorInfo.elements(shape) != values.length) {
      throw new IllegalArgumentException("tensor '" + name + "': shape " + java.util.Arrays.toString(shape) + " needs "
          + TensorInfo.elements(shape) + " values, got " + values.length);
    }
    float[] copy = values.clone();
    return new TensorEntry(name, target, shape, () -> {
      ByteBuffer f32 = ByteBuffer.allocate(copy.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      f32.asFloatBuffer().put(copy);
      if (target == SafetensorsDtype.F32) {
        return f32;
      }
      ByteBuffer out = ByteBuffer.allocate(copy.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      SafetensorsReader.convert(f32, SafetensorsDtype.F32, out, target, copy.length);
      out.flip();
      return out;
    });
  }

  /**
   * A stored tensor copied under {@code newName}, converted to {@code target} when both are
   * float types (bytes are read only when the writer reaches it). Values that overflow float16
   * are counted into {@code float16Overflows}.
   */
  public static TensorEntry copyOf(SafetensorsReader reader, String name, String newName, SafetensorsDtype target,
      java.util.concurrent.atomic.AtomicLong float16Overflows) {
    TensorInfo info = reader.info(name);
    SafetensorsDtype source = info.dtype();
    if (source != target && !(source.isFloat() && target.isFloat())) {
      throw new IllegalArgumentException("tensor '" + name + "': cannot convert " + source + " to " + target + "; only float tensors change type");
    }
    return new TensorEntry(newName, target, info.shape(), () -> {
      try {
        ByteBuffer raw = reader.bytes(name);
        if (source == target) {
          return raw;
        }
        long n = info.elements();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * target.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        float16Overflows.addAndGet(SafetensorsReader.convert(raw, source, out, target, n));
        out.flip();
        return out;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  /** Raw bytes given in Java, already little-endian. */
  public static TensorEntry ofBytes(String name, SafetensorsDtype dtype, long[] shape, byte[] littleEndian) {
    byte[] copy = littleEndian.clone();
    return new TensorEntry(name, dtype, shape, () -> ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
  }

  private static ByteBuffer swapToLittleEndian(ByteBuffer nativeOrder, SafetensorsDtype dtype) {
    ByteBuffer out = ByteBuffer.allocate(nativeOrder.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer in = nativeOrder.duplicate().order(ByteOrder.nativeOrder());
    while (in.hasRemaining()) {
      switch (dtype.bytes()) {
        case 8 -> out.putLong(in.getLong());
        case 4 -> out.putInt(in.getInt());
        case 2 -> out.putShort(in.getShort());
        default -> out.put(in.get());
      }
    }
    out.flip();
    return out;
  }
}
