package org.longctx.data.prepare;

import java.io.Serializable;

/**
 * What one task reports back to the driver.
 *
 * @param task the input it read
 * @param shard the file name of its Arrow shard
 * @param rejects the path of its reject file relative to the output, or empty when it had none
 * @param stats its counts
 */
public record PartResult(PartTask task, String shard, String rejects, PartStats stats) implements Serializable {}
