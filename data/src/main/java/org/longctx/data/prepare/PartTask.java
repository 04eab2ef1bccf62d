package org.longctx.data.prepare;

import java.io.Serializable;

/**
 * One input file to prepare; its output shard is {@code part-<index>.arrow}.
 *
 * @param index position of the file in the sorted list of inputs
 * @param path fully qualified path of the input file
 * @param bytes its size as stored
 */
public record PartTask(int index, String path, long bytes) implements Serializable {}
