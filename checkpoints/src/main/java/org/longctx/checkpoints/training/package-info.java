/**
 * Training-state checkpoints: one directory per step (weights, optimizer state, step, RNG
 * states, data cursor, resolved config) on any Hadoop file system, committed by renaming a
 * temporary directory, with a {@code latest} pointer updated last.
 */
package org.longctx.checkpoints.training;
