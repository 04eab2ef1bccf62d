/**
 * Rotary position embeddings and position schemes for context extension.
 *
 * <ul>
 *   <li>{@link org.longctx.positional.Rope}: the rope variants keyed by Hugging Face's
 *       {@code rope_type} (default, linear, dynamic, yarn, longrope, llama3) plus {@code ntk}
 *       and {@code yarn_pose}; {@link org.longctx.positional.Ropes} builds them from the YAML
 *       {@link org.longctx.positional.RopeConfig}, {@link org.longctx.positional.HfRopeConfig}
 *       reads and writes both generations of {@code config.json}.</li>
 *   <li>{@link org.longctx.positional.RotaryEmbedding}: cos/sin tables and rotate-half on DJL
 *       arrays, for arbitrary position ids.</li>
 *   <li>{@link org.longctx.positional.PoseSampler} (PoSE skip-wise positions) and
 *       {@link org.longctx.positional.SelfExtend} (grouped positions).</li>
 * </ul>
 * The formulas are those of methods.md §0–§2 and §5; inverse frequencies are computed in
 * float32 the way transformers computes them.
 */
package org.longctx.positional;
