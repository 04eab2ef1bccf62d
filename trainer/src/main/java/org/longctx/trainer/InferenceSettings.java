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
 * @param memory Focused Transformer memory layers to run with (the memory keys of a {@code fot:}
 *     section, resolved against the model: {@link FotConfig#memoryFor}), or null for the model's
 *     own ({@code config.json}'s {@code mem_layers}; none for a plain Llama)
 */
public record InferenceSettings(RopeConfig rope, SelfExtend selfExtend, FotConfig memory) {

  /** The model as its config.json describes it. */
  public static final InferenceSettings NONE = new InferenceSettings(null, null, null);

  /** A rope override and/or SelfExtend, with the model's own memory layers. */
  public InferenceSettings(RopeConfig rope, SelfExtend selfExtend) {
    this(rope, selfExtend, null);
  }

  /** A view of {@code model} with these settings (see {@link LlamaModel#with}); close it before the model. */
  public LlamaModel applyTo(LlamaModel model) {
    return model.with(this);
  }
}
