/** The Llama model, attention modes, optimizer, recipes, evaluation, generation. */
package org.longctx.trainer;
