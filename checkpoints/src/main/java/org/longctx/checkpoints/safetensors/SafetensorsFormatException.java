package org.longctx.checkpoints.safetensors;

import java.io.IOException;

/** A safetensors file or index that breaks the format; the message names the file and the problem. */
public final class SafetensorsFormatException extends IOException {
  public SafetensorsFormatException(String source, String problem) {
    super(source + ": " + problem);
  }

  public SafetensorsFormatException(String source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
  }
}
