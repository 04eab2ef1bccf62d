package org.longctx.data.reader;

/**
 * Where a {@link TokenStream} stands, small enough to live in a training checkpoint. All
 * ranks of a run read in lockstep (one sample each per step), so they share one cursor:
 * {@code position} counts samples consumed by all ranks together, across epochs.
 *
 * @param dataset fingerprint of the prepared dataset ({@link PreparedDataset#fingerprint()})
 * @param rows rows in that dataset (an epoch)
 * @param seed shuffle seed; epoch {@code e} uses the permutation seeded by {@code (seed, e)}
 * @param shuffle false reads rows in stored order every epoch
 * @param position samples consumed so far by all ranks together
 */
public record DataCursor(String dataset, long rows, long seed, boolean shuffle, long position) {

  public DataCursor {
    if (position < 0) {
      throw new IllegalArgumentException("position: must be >= 0, got " + position);
    }
    if (rows < 0) {
      throw new IllegalArgumentException("rows: must be >= 0, got " + rows);
    }
  }

  /** The start of a stream over {@code data}. */
  public static DataCursor start(PreparedDataset data, long seed, boolean shuffle) {
    return new DataCursor(data.fingerprint(), data.rows(), seed, shuffle, 0);
  }

  /** The epoch the next sample belongs to. */
  public long epoch() {
    return rows == 0 ? 0 : position / rows;
  }

  DataCursor advance(long samples) {
    return new DataCursor(dataset, rows, seed, shuffle, position + samples);
  }
}
