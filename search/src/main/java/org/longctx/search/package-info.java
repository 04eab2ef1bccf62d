/** LongRoPE evolutionary search for rope rescale factors. */
package org.longctx.search;
