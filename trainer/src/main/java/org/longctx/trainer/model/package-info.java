/**
 * The Llama-family decoder: {@link org.longctx.trainer.model.LlamaModel} (embedding → blocks →
 * norm → head), one {@link org.longctx.trainer.model.Attention} path whose per-layer
 * {@link org.longctx.trainer.model.AttentionMode} decides rotation and which keys precede the new
 * ones, an {@link org.longctx.trainer.model.AttentionKernel} that computes
 * {@code softmax(q·kᵀ·scale + mask)·v}, per-layer {@link org.longctx.trainer.model.LayerCache}s,
 * and {@link org.longctx.trainer.model.Precision}. docs/architecture.md draws the layout.
 */
package org.longctx.trainer.model;
