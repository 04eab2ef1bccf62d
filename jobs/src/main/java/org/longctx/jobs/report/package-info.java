/**
 * The evaluation report: {@code results.json}, PNG charts drawn with JFreeChart in headless
 * mode (a passkey heatmap of length × depth per method, passkey accuracy and perplexity
 * against length with one line per method) and {@code report.html} that shows them with the
 * tables behind them.
 */
package org.longctx.jobs.report;
