/** Rope variants keyed by Hugging Face names, rotary application, position-id schemes. */
package org.longctx.positional;
