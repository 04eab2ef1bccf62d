package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;

/**
 * How a model is run at inference time, beyond its weights: a rope that replaces the one in its
 * {@code config.json} (linear, dynamic, ntk, yarn, longrope factors, or {@code default} for none)
 * and, optionally, SelfExtend attention. Evaluation compares the same weights under several of
 * these.
 *
 * @param rope the rope to use instead of the model's own, or null to keep it; resolved against
 *     the model's head_dim, rope_theta (unless set here) and max_position_embeddings
 * @param selfExtend SelfExtend attention, or null for plain causal attention
 */
public record InferenceSettings(RopeConfig rope, SelfExtend selfExtend) {

  /** The model as its config.json describes it. */
  public static final InferenceSettings NONE = new InferenceSettings(null, null);

  /** A view of {@code model} with these settings (see {@link LlamaModel#with}); close it before the model. */
  public LlamaModel applyTo(LlamaModel model) {
    return model.with(this);
  }
}
