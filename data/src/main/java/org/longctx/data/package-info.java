/** Shard readers, tokenizer, filters, packing, Arrow IO, synthetic long-context tasks. */
package org.longctx.data;
