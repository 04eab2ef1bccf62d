package org.longctx.data.prepare;

import java.io.IOException;
import java.util.Arrays;
import org.longctx.data.io.ShardWriter;

/**
 * Packs documents (each already ending in EOS) into rows of exactly {@code seqLen} tokens. A
 * document that does not fit continues in the next row; each row records where documents
 * begin in it. Tokens left at the end that do not fill a row are counted, not written.
 */
final class Packer {
  private final int seqLen;
  private final ShardWriter out;
  private final int[] row;
  private int fill;
  private int[] starts = new int[16];
  private int startCount;

  Packer(int seqLen, ShardWriter out) {
    this.seqLen = seqLen;
    this.out = out;
    this.row = new int[seqLen];
  }

  void add(int[] tokens, int length) throws IOException {
    if (startCount == starts.length) {
      starts = Arrays.copyOf(starts, starts.length * 2);
    }
    starts[startCount++] = fill;
    int done = 0;
    while (done < length) {
      int n = Math.min(length - done, seqLen - fill);
      System.arraycopy(tokens, done, row, fill, n);
      fill += n;
      done += n;
      if (fill == seqLen) {
        out.addSequence(row, seqLen, starts, startCount);
        fill = 0;
        startCount = 0;
      }
    }
  }

  /** Tokens that did not fill a last row (dropped). */
  int tail() {
    return fill;
  }
}
