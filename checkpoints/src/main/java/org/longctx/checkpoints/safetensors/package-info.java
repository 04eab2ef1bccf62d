/**
 * The safetensors format: strict reading of single files and sharded folders (memory-mapped
 * from local disk, streamed from any Hadoop file system), writing with optional sharding, and
 * the float16/bfloat16 conversions done in Java because DJL cannot hold bfloat16.
 */
package org.longctx.checkpoints.safetensors;
