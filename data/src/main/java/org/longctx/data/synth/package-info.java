/**
 * Synthetic long-context data in the Pile format, deterministic by seed: passkey and
 * multi-key retrieval, documents whose later parts depend on earlier ones, and a small
 * damaged corpus for checking a prepare setup end to end.
 */
package org.longctx.data.synth;
