/**
 * Optional native kernels for training on GPU: fused causal attention
 * ({@code at::scaled_dot_product_attention}), a cast that autograd records, a float32
 * cross-entropy over low-precision logits, a multi-tensor fused AdamW step and the TF32 switch,
 * all on DJL's PyTorch arrays.
 *
 * <p>They live in {@code liblongctx_native.so}, built from the project's {@code native/} folder
 * against the libtorch that DJL runs on (see {@code docs/gpu.md}). Without that library
 * {@link org.longctx.kernels.NativeKernels#available()} is false and callers keep the pure-DJL
 * path; nothing here is needed for the CPU build or its tests.
 */
package org.longctx.kernels;
