/**
 * Evaluation of long-context models, independent of Spark: passkey retrieval over a grid of
 * lengths × depths × trials (prompts from the synth generator, so training and evaluation
 * share one format; score = exact match of the generated key) and perplexity by length on
 * held-out documents, for several methods on the same prompts.
 *
 * <p>The pieces split along where they run: {@link org.longctx.trainer.eval.EvalPlan} builds
 * every prompt and document once (the driver), {@link org.longctx.trainer.eval.EvalRunner}
 * runs the model on a batch of {@link org.longctx.trainer.eval.EvalItem}s of one method (a
 * Spark task, or a plain loop), and {@link org.longctx.trainer.eval.EvalResults} scores the
 * outputs and aggregates them into the tables the report draws.
 */
package org.longctx.trainer.eval;
