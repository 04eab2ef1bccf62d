/**
 * The optimizer side of a training step, on plain DJL arrays, independent of the model.
 *
 * <p>One optimizer step, in order (what {@link org.longctx.trainer.optim.OptimizerStep} runs
 * after the caller's forward and backward passes):
 * <ol>
 *   <li>forward, then {@code backward(scaler.scaleLoss(loss, microBatches))} once per
 *       micro-batch: gradients accumulate in the parameters' own gradient arrays;</li>
 *   <li>{@link org.longctx.trainer.optim.LossScaler#unscale}: float32 gradients divided by the
 *       loss scale ({@link org.longctx.trainer.optim.Gradients});</li>
 *   <li>{@link org.longctx.trainer.optim.GradientClipping}: global L2 norm, clipped to
 *       {@code max_norm};</li>
 *   <li>{@link org.longctx.trainer.optim.LossScaler#update}: a non-finite norm or loss skips the
 *       step and backs the scale off, a run of good steps grows it;</li>
 *   <li>{@link org.longctx.trainer.optim.AdamW#step} at the learning rate of
 *       {@link org.longctx.trainer.optim.LrSchedule} (only when the step was not skipped);</li>
 *   <li>{@link org.longctx.trainer.optim.Gradients#zero}: DJL never zeroes gradients itself.</li>
 * </ol>
 *
 * <p>Numbers follow the references exactly: {@code torch.optim.AdamW},
 * {@code torch.nn.utils.clip_grad_norm_}, {@code torch.amp.GradScaler} and transformers'
 * {@code get_*_schedule_with_warmup}; the tests compare against values those produced.
 *
 * <p>Parameters may be float32 (the CPU path: they are their own master weights) or float16
 * (the GPU path: {@link org.longctx.trainer.optim.AdamW} keeps a float32 master copy outside the
 * autograd graph, updates it, and writes it back into the float16 parameter, because DJL's
 * {@code toType} cuts the graph and so cannot cast inside it).
 */
package org.longctx.trainer.optim;
