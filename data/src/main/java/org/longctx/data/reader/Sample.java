package org.longctx.data.reader;

/**
 * One row served to a training worker.
 *
 * @param position its index in the shared stream (epochs concatenated)
 * @param epoch {@code position / rows}
 * @param row its row in the dataset (global over parts, in stored order)
 * @param id the document id ({@code documents} layout), empty for packed rows
 * @param source the document source ({@code documents} layout), empty for packed rows
 * @param tokens its token ids
 * @param docStarts packed layout: where documents begin in {@code tokens}; empty otherwise
 */
public record Sample(long position, long epoch, long row, String id, String source, int[] tokens, int[] docStarts) {}
