/**
 * Training metrics: one JSON line per step in {@code metrics.jsonl}, a progress line on the
 * console, and a final {@code summary.json} ({@link org.longctx.trainer.metrics.MetricsLog}).
 */
package org.longctx.trainer.metrics;
