package org.longctx.positional;

import java.util.Arrays;
import java.util.List;

/**
 * One PoSE training example: which document tokens to feed and the position id of each.
 *
 * @param spans the selected document ranges, in order; their tokens concatenated are the input
 * @param positionIds one position per selected token, strictly increasing, all below the target length
 */
public record PoseSample(List<Span> spans, long[] positionIds) {

  /** Document token range {@code [start, end)}. */
  public record Span(int start, int end) {
    public Span {
      if (start < 0 || end < start) {
        throw new IllegalArgumentException("span: need 0 ≤ start ≤ end, got [" + start + ", " + end + ")");
      }
    }

    public int length() {
      return end - start;
    }
  }

  public PoseSample {
    spans = List.copyOf(spans);
    positionIds = positionIds.clone();
    int total = spans.stream().mapToInt(Span::length).sum();
    if (total != positionIds.length) {
      throw new IllegalArgumentException("positionIds: need one per selected token (" + total + "), got " + positionIds.length);
    }
  }

  @Override
  public long[] positionIds() {
    return positionIds.clone();
  }

  /** Number of selected tokens. */
  public int length() {
    return positionIds.length;
  }

  /** The selected tokens of {@code documentIds}, in order. */
  public int[] select(int[] documentIds) {
    int[] out = new int[positionIds.length];
    int at = 0;
    for (Span s : spans) {
      if (s.end() > documentIds.length) {
        throw new IllegalArgumentException("documentIds: span " + s + " is beyond the document's " + documentIds.length + " tokens");
      }
      System.arraycopy(documentIds, s.start(), out, at, s.length());
      at += s.length();
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PoseSample p && spans.equals(p.spans) && Arrays.equals(positionIds, p.positionIds);
  }

  @Override
  public int hashCode() {
    return 31 * spans.hashCode() + Arrays.hashCode(positionIds);
  }

  @Override
  public String toString() {
    return "PoseSample[spans=" + spans + ", positionIds=" + Arrays.toString(positionIds) + "]";
  }
}
