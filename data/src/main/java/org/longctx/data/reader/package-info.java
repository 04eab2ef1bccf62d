/**
 * Reading prepared data for training: {@link org.longctx.data.reader.PreparedDataset} opens
 * a finished output, {@link org.longctx.data.reader.TokenStream} serves a seeded, rank-split,
 * resumable stream of its rows.
 */
package org.longctx.data.reader;
