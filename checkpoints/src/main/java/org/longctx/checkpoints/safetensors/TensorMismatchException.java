package org.longctx.checkpoints.safetensors;

import java.io.IOException;

/** Stored tensors that do not fit what is being restored; the message lists every mismatch by name. */
public final class TensorMismatchException extends IOException {
  public TensorMismatchException(String message) {
    super(message);
  }
}
