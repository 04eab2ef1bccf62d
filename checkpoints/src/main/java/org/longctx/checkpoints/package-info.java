/** safetensors, Hugging Face config and weight names, training-state checkpoints, export. */
package org.longctx.checkpoints;
