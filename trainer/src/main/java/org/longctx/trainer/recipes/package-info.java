/**
 * Training recipes, one file each holding its whole loop: {@link org.longctx.trainer.recipes.PretrainRecipe}
 * (causal LM on packed sequences) and {@link org.longctx.trainer.recipes.PoseRecipe} (PoSE:
 * train at Lc with position ids spanning Lt). The pieces both loops would otherwise repeat
 * verbatim — the document stream, batch tensors and the loss, checkpoint save and restore,
 * model setup and export — live in {@link org.longctx.trainer.recipes.TrainingData},
 * {@link org.longctx.trainer.recipes.Batch} and {@link org.longctx.trainer.recipes.TrainingSupport}.
 */
package org.longctx.trainer.recipes;
