/**
 * Byte-level input and output: line splitting without decoding, strict UTF-8 checks,
 * compression by file name, local and Hadoop storage, and the Arrow shard format.
 */
package org.longctx.data.io;
