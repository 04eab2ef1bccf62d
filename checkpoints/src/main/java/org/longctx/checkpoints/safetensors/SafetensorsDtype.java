package org.longctx.checkpoints.safetensors;

import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The element types longctx reads and writes, under their safetensors names. */
public enum SafetensorsDtype {
  F32(4, DataType.FLOAT32),
  F16(2, DataType.FLOAT16),
  /** bfloat16: DJL cannot hold it, so it is converted in Java on the way in and out. */
  BF16(2, null),
  I64(8, DataType.INT64),
  I32(4, DataType.INT32),
  I8(1, DataType.INT8),
  U8(1, DataType.UINT8),
  BOOL(1, DataType.BOOLEAN);

  private final int bytes;
  private final DataType djlType;

  SafetensorsDtype(int bytes, DataType djlType) {
    this.bytes = bytes;
    this.djlType = djlType;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** True for F32, F16 and BF16. */
  public boolean isFloat() {
    return this == F32 || this == F16 || this == BF16;
  }

  /** The DJL type holding these values unchanged; null for BF16, which DJL cannot hold. */
  public DataType djlType() {
    return djlType;
  }

  /** The safetensors name for a DJL type. */
  public static SafetensorsDtype of(DataType type) {
    for (SafetensorsDtype d : values()) {
      if (d.djlType == type) {
        return d;
      }
    }
    throw new IllegalArgumentException("DJL type " + type + " has no safetensors counterpart here; allowed: "
        + Arrays.stream(values()).filter(d -> d.djlType != null).map(d -> d.djlType.toString()).collect(Collectors.joining(", ")));
  }

  /** Parses a header's dtype string; null when unknown (the caller names the tensor). */
  static SafetensorsDtype parse(String name) {
    for (SafetensorsDtype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** The names this reader understands, for error messages. */
  public static String allowedNames() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }
}
