/** How training replicas exchange gradients: the {@link org.longctx.trainer.distributed.Collective} seam. */
package org.longctx.trainer.distributed;
