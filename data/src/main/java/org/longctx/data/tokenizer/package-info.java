/**
 * Tokenizers as data ({@link org.longctx.data.tokenizer.TokenizerSpec}: the bytes of a
 * Hugging Face {@code tokenizer.json}, its fingerprint and special ids), fast id-only encoding
 * through DJL ({@link org.longctx.data.tokenizer.TextTokenizer}), and the byte-level tokenizer
 * the project writes itself ({@link org.longctx.data.tokenizer.ByteLevelTokenizer}).
 */
package org.longctx.data.tokenizer;
