/**
 * Byte-level input and output: line splitting without decoding, strict UTF-8 checks,
 * compression by file name, and the Arrow shard format (files are reached through
 * {@link org.longctx.checkpoints.Storage}).
 */
package org.longctx.data.io;
