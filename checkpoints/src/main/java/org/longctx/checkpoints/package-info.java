/**
 * Model files in and out: {@link org.longctx.checkpoints.LlamaConfig} (a Hugging Face
 * {@code config.json} of Llama, Mistral or Qwen2, both transformers generations),
 * {@link org.longctx.checkpoints.Storage} (local disk or any Hadoop file system), safetensors in the
 * {@code safetensors} package and training-state checkpoints in the {@code training} package.
 */
package org.longctx.checkpoints;
