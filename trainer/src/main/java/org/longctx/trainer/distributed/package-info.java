/**
 * How training replicas exchange gradients: the {@link org.longctx.trainer.distributed.Collective}
 * seam, the engine-free {@link org.longctx.trainer.distributed.Ring} (ring all-reduce over TCP)
 * and the {@code distributed:} section ({@link org.longctx.trainer.distributed.DistributedConfig}).
 */
package org.longctx.trainer.distributed;
