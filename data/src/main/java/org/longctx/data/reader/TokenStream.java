package org.longctx.data.reader;

import java.util.Iterator;
import org.longctx.data.io.ShardReader;

/**
 * The training-side view of a prepared dataset: an endless, deterministic stream of rows,
 * split across {@code worldSize} ranks, resumable exactly from a {@link DataCursor}.
 *
 * <p>The shared stream is epoch after epoch of the dataset's rows, each epoch in the order of
 * a {@link Permutation} seeded by {@code (seed, epoch)} (or stored order when not shuffling).
 * At every step each rank takes one element: rank {@code r} takes element
 * {@code position + r}, then all advance by {@code worldSize}. So within an epoch the ranks
 * together see every row exactly once, and a cursor saved after any step restores the
 * stream exactly, even with a different number of ranks.
 */
public final class TokenStream implements Iterator<Sample> {
  private final PreparedDataset data;
  private final int rank;
  private final int worldSize;
  private DataCursor cursor;
  private long permutationEpoch = -1;
  private Permutation permutation;

  /**
   * @param cursor where to start: {@link DataCursor#start} or one saved in a checkpoint
   * @throws IllegalArgumentException if the cursor was made for another dataset
   */
  public TokenStream(PreparedDataset data, int rank, int worldSize, DataCursor cursor) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("need 0 <= rank < worldSize, got rank " + rank + " of " + worldSize);
    }
    if (!cursor.dataset().equals(data.fingerprint()) || cursor.rows() != data.rows()) {
      throw new IllegalArgumentException("the cursor was saved for dataset " + cursor.dataset() + " (" + cursor.rows()
          + " rows) but " + data.location() + " is " + data.fingerprint() + " (" + data.rows()
          + " rows); resume with the data the run started with");
    }
    if (data.rows() == 0) {
      throw new IllegalArgumentException(data.location() + " has no rows to train on");
    }
    this.data = data;
    this.rank = rank;
    this.worldSize = worldSize;
    this.cursor = cursor;
  }

  /** Always true: the stream repeats the data epoch after epoch. */
  @Override
  public boolean hasNext() {
    return true;
  }

  /** This rank's next row. */
  @Override
  public Sample next() {
    long element = cursor.position() + rank;
    long epoch = element / cursor.rows();
    long inEpoch = element % cursor.rows();
    long row = rowAt(epoch, inEpoch);
    ShardReader.Row r = data.row(row);
    cursor = cursor.advance(worldSize);
    return new Sample(element, epoch, row, r.id(), r.source(), r.tokens(), r.docStarts());
  }

  /** The row shown at place {@code inEpoch} of {@code epoch}. */
  long rowAt(long epoch, long inEpoch) {
    if (!cursor.shuffle()) {
      return inEpoch;
    }
    if (epoch != permutationEpoch) {
      permutation = new Permutation(cursor.rows(), cursor.seed() * 0x9E3779B97F4A7C15L + epoch);
      permutationEpoch = epoch;
    }
    return permutation.apply(inEpoch);
  }

  /** The position to save: resuming from it continues right after the last {@link #next()}. */
  public DataCursor cursor() {
    return cursor;
  }
}
